"""`to_dataframe` gives the very frames of its first implementation (kept here as the reference), on any data."""

from __future__ import annotations

import math
import random
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel

from inference_nb.results.frames import to_dataframe
from inference_nb.results.frames import to_plain as _plain


def reference(value: Any) -> pd.DataFrame:
    """The implementation before issue 12: everything made plain, then json_normalize."""
    value = _plain(value)
    if value is None:
        return pd.DataFrame()
    is_table = lambda v: isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)  # noqa: E731
    rows = value if is_table(value) else None
    if rows is None and isinstance(value, dict):
        tables = [v for v in value.values() if is_table(v)]
        rows = tables[0] if len(tables) == 1 else None
    if rows is not None:
        return pd.json_normalize(rows, sep=".")
    if isinstance(value, dict):
        return pd.json_normalize(value, sep=".")
    if isinstance(value, list):
        return pd.json_normalize([v if isinstance(v, dict) else {"value": v} for v in value], sep=".")
    return pd.DataFrame({"value": [value]})


class Point(BaseModel):
    x: float
    tags: list[str] = []


def same(value: Any) -> None:
    pd.testing.assert_frame_equal(to_dataframe(value), reference(value), check_exact=True)


TRICKY = {
    "flat": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
    "missing keys": [{"a": 1}, {"b": 2}, {"a": 3, "c": None}],
    "none and nan": [{"a": None, "b": math.nan}, {"a": 1.5, "b": None}],
    "lists kept": [{"a": [1, 2], "b": []}, {"a": [], "b": [{"k": 1}]}],
    "nested": [{"id": 1, "u": {"n": "a", "g": {"lat": 1.5}}}, {"id": 2, "extra": [1, 2]}],
    "nested only later": [{"a": 1}, {"a": 2, "u": {"n": 1}}],
    "dict then scalar": [{"a": {"x": 1}, "b": 1}, {"a": 3, "b": 2}],
    "empty dict": [{"a": {}, "b": 1}],
    "mixed types": [{"a": 1}, {"a": "one"}, {"a": 1.5}, {"a": True}],
    "model rows": [Point(x=1), Point(x=2, tags=["t"])],
    "model in a cell": [{"p": Point(x=1)}, {"p": None}],
    "model in a list cell": [{"ps": [Point(x=1)]}, {"ps": []}],
    "tuple cell": [{"t": (1, 2)}],
    "one table inside": {"rows": [{"a": {"b": 1}}], "count": 1},
    "two tables": {"a": [{"x": 1}], "b": [{"y": 2}], "meta": {"n": 1}},
    "tuple of rows": ({"a": 1}, {"a": 2}),
    "scalars": [1, "two", None],
    "mixed list": [1, {"a": 1}],
    "one object": {"a": {"b": [1]}, "c": None},
    "model": Point(x=3),
    "scalar": 4,
    "none": None,
    "empty": [],
}


@pytest.mark.parametrize("name", TRICKY)
def test_tricky_shapes(name):
    same(TRICKY[name])


def random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.choice(["int", "float", "nan", "str", "none", "bool", "list", "dict", "model"][: 9 if depth < 3 else 6])
    return {
        "int": lambda: rng.randint(-5, 5),
        "float": lambda: rng.random(),
        "nan": lambda: math.nan,
        "str": lambda: rng.choice(["a", "b", ""]),
        "none": lambda: None,
        "bool": lambda: rng.random() < 0.5,
        "list": lambda: [random_value(rng, depth + 1) for _ in range(rng.randint(0, 2))],
        "dict": lambda: {rng.choice("pqr"): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))},
        "model": lambda: Point(x=rng.random()),
    }[kind]()


@pytest.mark.parametrize("seed", range(200))
def test_random_rows(seed):
    rng = random.Random(seed)
    keys = "abcde"[: rng.randint(1, 5)]
    rows = [{k: random_value(rng, 1) for k in keys if rng.random() < 0.8} for _ in range(rng.randint(1, 6))]
    same(rows)
