"""`inference-nb serve`: the embedded server as a standalone process."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sqlite3
import sys
from pathlib import Path

TOKEN_ENV = "INFERENCE_NB_TOKEN"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inference-nb", description="inference_nb tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the embedded server (tasks API) in the foreground",
        description=(
            f"Run the embedded server. The bearer token is ${TOKEN_ENV} if set, otherwise the "
            "file 'token' in the data dir (created, readable by you only, on first start)."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name it answers to besides its address and localhost (repeatable; '*' for any)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the URL clients reach it at, e.g. behind a proxy (file URIs start with it; its host is answered to)",
    )
    serve.add_argument(
        "--webhook-host",
        action="append",
        default=None,
        metavar="NAME",
        help="a host webhooks may go to (repeatable; 'loopback' for this machine; default: any)",
    )
    serve.add_argument(
        "--app",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a folder of an app written for inference.sh (inference.py + inf.yml) to offer (repeatable)",
    )
    serve.add_argument(
        "--app-namespace",
        default="local",
        metavar="NAME",
        help="the namespace of the --app apps: they are NAME/<name in inf.yml> (default: local)",
    )
    serve.add_argument(
        "--app-run-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="seconds a task of an --app app may take, setup included (default: 600)",
    )
    serve.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0 picks a free one)")
    serve.add_argument("--data-dir", type=Path, default=None, help="where tasks and files are kept")
    serve.add_argument("--workers", type=int, default=8, help="tasks that run at once (default: 8)")
    serve.add_argument(
        "--max-queued",
        type=int,
        default=1000,
        help="tasks that may wait for a worker; more are Rejected (default: 1000)",
    )
    serve.add_argument(
        "--max-storage",
        type=_size,
        default=None,
        metavar="SIZE",
        help="the most uploaded and output files may take together, e.g. 500M or 20G (default: no limit)",
    )
    serve.add_argument(
        "--request-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time a client has for a request's head, the longest pause in a body, and a body's grace "
        "before it must average 10 kB/s (default: 10)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=4096,
        help="connections open at once; a new one past it is answered 503 (default: 4096, fewer if "
        "the open-file limit allows fewer)",
    )
    serve.add_argument(
        "--event-replay",
        type=int,
        default=10_000,
        help="events kept per API for event streams to resume from (default: 10000)",
    )
    return parser


def _size(text: str) -> int:
    from .server.quota import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


def serve(args: argparse.Namespace) -> int:
    from .server.app import ServerConfig, create_app, read_or_create_secret
    from .server.apps.builtin import BUILTIN_APPS
    from .server.apps.official import load_app_dir
    from .server.apps.registry import AppRegistry
    from .server.embedded import default_data_dir
    from .server.serving import listen, make_server, serve_url
    from .server.store import DataDirInUse

    data_dir: Path = (args.data_dir or default_data_dir()).expanduser()
    token_file = data_dir / "token"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        token = os.environ.get(TOKEN_ENV, "").strip() or read_or_create_secret(token_file)
    except OSError as exc:  # e.g. a read-only filesystem: one plain line, not a traceback
        print(f"inference-nb: cannot use {data_dir} as the data dir: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        config = ServerConfig(
            data_dir=data_dir,
            token=token,
            max_workers=args.workers,
            max_queued=args.max_queued,
            max_storage=args.max_storage,
            request_timeout=args.request_timeout,
            max_connections=args.max_connections,
            event_replay=args.event_replay,
            allow_hosts=tuple(args.allow_host),
            webhook_hosts=tuple(args.webhook_host or ("*",)),
            public_url=args.public_url,
        )
    except ValueError as exc:
        print(f"inference-nb: {exc}", file=sys.stderr)
        return 2
    try:
        loaded = [
            load_app_dir(folder, namespace=args.app_namespace, run_timeout=args.app_run_timeout) for folder in args.app
        ]
    except ValueError as exc:
        print(f"inference-nb: {exc}", file=sys.stderr)
        return 2
    try:
        app = create_app(config, AppRegistry([*BUILTIN_APPS, *loaded]))
        sock = listen(args.host, args.port)
    except (DataDirInUse, OSError, sqlite3.Error) as exc:
        print(f"inference-nb: {exc}", file=sys.stderr)
        return 1
    where = f"${TOKEN_ENV}" if os.environ.get(TOKEN_ENV, "").strip() else str(token_file)
    print(f"inference_nb server on {serve_url(app, sock)} (data in {data_dir}; token in {where})", flush=True)
    if not _is_loopback(args.host):
        print("warning: listening beyond loopback, without TLS; the token is the only protection", file=sys.stderr)
    make_server(app).run(sockets=[sock])
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    sys.exit(main())
