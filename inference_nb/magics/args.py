"""What a magic cell says: its options (shlex + argparse) and its body (JSON, YAML or plain text).

Pure functions, so that the magics module only delegates and displays.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

import yaml
from IPython.core.error import UsageError

OUTPUTS = ("table", "image", "json", "raw", "widget")
_TEXT_FIELDS = ("prompt", "text", "message", "query")


class HelpShown(Exception):
    """`--help` printed the usage: the magic returns without running anything."""


class _Parser(argparse.ArgumentParser):
    # argparse exits the process on errors and after --help; in a kernel that must not happen.
    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> None:
        raise HelpShown


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return value


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}); quote it: --setup '{{\"key\": 1}}'") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def _name(text: str) -> str:
    if not text.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not a Python variable name")
    return text


def _common(parser: _Parser) -> _Parser:
    parser.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait for the run to end (default), or show it at once and return",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="give up waiting after this long and cancel the run on the server",
    )
    parser.add_argument(
        "--output",
        choices=OUTPUTS,
        help="show the result as a table, its images, JSON of the result, the raw server "
        "object, or the widget pre-filled with this cell (which then starts nothing); "
        "default: the run's own display",
    )
    parser.add_argument(
        "--as",
        dest="name",
        type=_name,
        metavar="NAME",
        help="store the Run (the widget, with --output widget) in this variable",
    )
    parser.add_argument(
        "--interpolate",
        action="store_true",
        help="replace {variable} in the body by its value (double the braces to keep one)",
    )
    return parser


INFER = _common(
    _Parser(
        prog="%infer",
        allow_abbrev=False,
        description=(
            "Run a task of an app. The cell body is the input: a JSON object or YAML mapping, or plain text "
            "that becomes the app's main text field (e.g. demo/picture's prompt); empty means all defaults."
        ),
    )
)
INFER.add_argument("app", help="the app id, e.g. demo/picture or demo/picture@1.0.0")
INFER.add_argument(
    "--session",
    metavar="new|last|ID",
    help="run in a new session, the last one %%infer started for this app, or the session ID",
)
INFER.add_argument("--setup", type=_json_object, metavar="JSON", help="the app's setup parameters, a JSON object")

ASK = _common(
    _Parser(
        prog="%ask",
        allow_abbrev=False,
        description=("Ask a question; the cell body is the message. The result comes back shaped by the schema."),
    )
)
ASK.add_argument(
    "--schema",
    metavar="NAME|JSON",
    help="a variable (or expression) holding a JSON Schema dict or a pydantic model / type "
    "such as list[Item], or an inline JSON Schema",
)
ASK.add_argument("--cluster", metavar="NAME", help="the cluster the run goes to")

CONFIG = _Parser(
    prog="%infer_config",
    allow_abbrev=False,
    description=(
        "Show where the magics send work, or change it. Keys are read from an environment variable, "
        "never typed in a cell: cells are saved in the notebook."
    ),
)
CONFIG.add_argument("--url", help="a server speaking both protocols (needs --key-env)")
CONFIG.add_argument("--key-env", metavar="ENV_VAR_NAME", help="the environment variable holding the key")
CONFIG.add_argument("--cluster", metavar="NAME", help="the cluster %%ask sends runs to")
CONFIG.add_argument("--timeout", type=_seconds, metavar="SECONDS", help="how long a wait lasts by default")
CONFIG.add_argument("--embedded", action="store_true", help="go back to the embedded server")
CONFIG.add_argument(
    "--hosted",
    action="store_true",
    help="the hosted services as their current SDKs speak (task statuses renumbered in 2026, POST /apps/run; "
    "runs polled, and only with --cluster); needs --key-env, --url optional",
)


def parse(parser: _Parser, line: str) -> argparse.Namespace:
    """The options of a magic line; raises UsageError, or HelpShown after printing the usage."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise UsageError(f"{parser.prog}: cannot split the line into words ({error})") from None
    return parser.parse_args(words)


def interpolate(body: str, namespace: Mapping[str, Any]) -> str:
    """`{variable}` replaced by its value from the user namespace."""
    try:
        return body.format_map(namespace)
    except KeyError as error:
        raise UsageError(
            f"--interpolate: no variable {error.args[0]!r} is defined (write {{{{ and }}}} for literal braces)"
        ) from None
    except (AttributeError, IndexError, ValueError) as error:
        raise UsageError(f"--interpolate: {error} (write {{{{ and }}}} for literal braces)") from None


def parse_body(body: str) -> dict[str, Any] | None:
    """The input a body spells as a JSON object or a YAML mapping, or None when it is plain text."""
    text = body.strip()
    if not text:
        return {}
    if text.startswith("{"):
        # JSON, not YAML's lenient flow style (which reads `{"a": }` as a null): broken JSON must fail loudly.
        try:
            data = json.loads(text)
        except ValueError as error:
            raise UsageError(f"the cell body looks like a JSON object but is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise UsageError("the cell body must be one JSON object")
        return data
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _is_text(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "string" or any(p.get("type") == "string" for p in prop.get("anyOf", []))


def main_text_field(app: str, schema: dict[str, Any]) -> str:
    """Where a plain-text body goes: the first required string property, else a conventionally named one."""
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        if _is_text(properties.get(name, {})):
            return name
    for name in _TEXT_FIELDS:
        if _is_text(properties.get(name, {})):
            return name
    fields = ", ".join(properties) or "none"
    raise UsageError(
        f"{app} has no main text field for a plain-text body; write the input as JSON or YAML (its fields: {fields})"
    )


_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")


def env_name_shown(name: str) -> str:
    """The name as written when it looks like a variable name; else withheld, in case a key was typed."""
    return f"${name}" if _ENV_NAME.fullmatch(name) else "the variable given (not shown: it may be a key)"
