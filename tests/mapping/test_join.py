"""`join._results`: the results of a map's rows as columns (I/O-free)."""

from __future__ import annotations

import math

from inference_nb.mapping.join import _results


def test_flat_dict_results_are_columns_and_a_row_without_one_is_empty():
    frame = _results([{"a": 1, "b": "x"}, None, {"a": 3, "c": [1, 2]}], typed=False)

    assert list(frame.columns) == ["a", "b", "c"]
    assert frame["a"].tolist()[::2] == [1, 3] and math.isnan(frame["a"][1])
    assert frame["c"][2] == [1, 2]


def test_nested_dict_results_are_dotted_columns():
    frame = _results([{"a": {"b": 1, "c": {"d": 2}}}, None, {"a": {"b": 3}}], typed=False)

    assert sorted(frame.columns) == ["a.b", "a.c.d"]
    assert frame["a.b"].tolist()[::2] == [1, 3]
    assert frame["a.c.d"][0] == 2 and math.isnan(frame["a.c.d"][2])


def test_results_that_are_not_all_dicts_stay_in_one_result_column():
    frame = _results([{"a": 1}, [1, 2], None], typed=False)

    assert list(frame.columns) == ["result"]
    assert frame["result"].tolist() == [{"a": 1}, [1, 2], None]
