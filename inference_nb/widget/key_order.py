"""The key order of JSON objects, carried beside them (docs/ARCHITECTURE.md, "The widget": order survives saving).

Widget state is saved into the notebook, and nbformat writes JSON with sorted keys: a schema's
`properties` come back alphabetical, and a form built from them reorders its fields. So data whose
key order means something carries `key_order`, the keys of each object below it in order by JSON
pointer (only objects whose keys are not already sorted); `js/key-order.ts` restores it on read.
"""

from __future__ import annotations

from typing import Any


def with_key_order(value: dict[str, Any]) -> dict[str, Any]:
    """`value` with a `key_order` entry for the objects below it (none when every one is sorted)."""
    orders: dict[str, list[str]] = {}
    for key, item in value.items():
        _collect(item, f"/{_escape(key)}", orders)
    return {**value, "key_order": orders} if orders else dict(value)


def _collect(value: Any, pointer: str, orders: dict[str, list[str]]) -> None:
    if isinstance(value, dict):
        keys = [str(k) for k in value]
        if keys != sorted(keys):
            orders[pointer] = keys
        for key, item in value.items():
            _collect(item, f"{pointer}/{_escape(str(key))}", orders)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, f"{pointer}/{index}", orders)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
