"""App ids as people write them: `namespace/name` means the newest version the server lists.

The server resolves a bare name itself when it starts a task, but the widget and the magics
pick an app from `GET /apps` (whose ids all carry a version), so they resolve here, the same way.
"""

from __future__ import annotations

import difflib
from typing import Any

from .errors import InvalidRequest


def resolve_app(app: str, apps: list[dict[str, Any]]) -> dict[str, Any]:
    """The entry of `apps` (as `GET /apps` lists them) that `app` names.

    Args:
        app: `namespace/name@version`, or `namespace/name` for the version marked `latest`
            (the last one listed when none is marked).
        apps: the server's apps, each with `id` (`namespace/name@version`) and optionally `latest`.

    Raises:
        InvalidRequest: no app matches (field "app"); the message names the apps there are,
            the ones closest to `app` first.
    """
    for entry in apps:
        if entry.get("id") == app:
            return entry
    same_name = [entry for entry in apps if app_name(entry.get("id", "")) == app]
    if same_name:
        latest = [entry for entry in same_name if entry.get("latest")]
        return (latest or same_name)[-1]
    raise InvalidRequest(unknown_app_message(app, apps), field="app")


def unknown_app_message(app: str, apps: list[dict[str, Any]]) -> str:
    """ "app: no app 'x' …" naming the server's apps, the closest to `app` first."""
    names = sorted({app_name(entry.get("id", "")) for entry in apps} - {""})
    if not names:
        return f"app: no app {app!r}; the server lists no apps"
    if app_name(app) in names:  # the name is right, the version is not
        versions = [entry["id"] for entry in apps if app_name(entry.get("id", "")) == app_name(app)]
        return f"app: no version {app!r}; there are {', '.join(versions)}"
    close = difflib.get_close_matches(app_name(app), names, n=3, cutoff=0.5)
    ordered = close + [name for name in names if name not in close]
    hint = f"did you mean {close[0]}? " if close else ""
    return f"app: no app {app!r}; {hint}apps: {', '.join(ordered)}"


def app_name(app_id: str) -> str:
    """`namespace/name` of an app id, without its version."""
    return app_id.partition("@")[0]
