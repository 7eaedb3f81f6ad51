"""What the widget's forms hold, as the front end sends it back while it is typed.

The browser never sets traits itself (docs/ARCHITECTURE.md, "The widget": browser → kernel goes
through custom messages): it sends a `typed` message, debounced, and the controller thread sets
the traits from it, so `widget.message` and `widget.input` read what is on screen and a reload
(or a saved notebook) shows it again. A value of the wrong type is refused, naming it.
"""

from __future__ import annotations

from typing import Any

from ..client.errors import InvalidRequest

SESSIONS = ("none", "new", "last")


def typed_traits(content: dict[str, Any], *, schema_locked: bool) -> dict[str, Any]:
    """The traits a `typed` message sets (only those it carries); a schema from a pydantic model stays."""
    traits: dict[str, Any] = {}
    for field, trait in (("message", "message"), ("schema_text", "schema_text"), ("app", "app"),
                         ("setup_text", "setup_text")):  # fmt: skip
        if field in content:
            traits[trait] = _text(content[field], field)
    if schema_locked:
        traits.pop("schema_text", None)
    if "mode" in content:
        traits["mode"] = _choice(content["mode"], "mode", ("ask", "app"))
    if "session" in content:
        traits["session"] = _choice(content["session"], "session", SESSIONS)
    if "input" in content:
        if not isinstance(content["input"], dict):
            raise InvalidRequest("input: expected an object of the app's input fields", field="input")
        traits["input_values"] = content["input"]
    return traits


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{field}: expected text", field=field)
    return value


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidRequest(f"{field}: expected one of {', '.join(choices)}", field=field)
    return value
