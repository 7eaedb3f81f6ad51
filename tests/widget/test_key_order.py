"""Key order carried beside data whose order means something, since a saved notebook sorts keys."""

from __future__ import annotations

import json

import nbformat

from inference_nb.widget.key_order import with_key_order


def test_unsorted_objects_below_the_value_carry_their_order_by_json_pointer():
    schema = {"type": "object", "properties": {"prompt": {}, "width": {}, "a/b": {}}}
    app = {"id": "demo/picture", "input_schema": schema}
    assert with_key_order(app)["key_order"] == {
        "/input_schema": ["type", "properties"],
        "/input_schema/properties": ["prompt", "width", "a/b"],
    }
    sorted_only = {"values": {"a": 1, "b": [{"x": 1, "y": 2}]}}
    assert with_key_order(sorted_only) == sorted_only  # nothing to carry


def test_the_order_survives_what_nbformat_does_to_saved_state(tmp_path):
    app = with_key_order({"input_schema": {"properties": {"prompt": {}, "width": {}, "height": {}, "seed": {}}}})
    nb = nbformat.v4.new_notebook(metadata={"widgets": {"state": app}})
    nbformat.write(nb, tmp_path / "saved.ipynb")
    saved = json.loads((tmp_path / "saved.ipynb").read_text())["metadata"]["widgets"]["state"]
    assert list(saved["input_schema"]["properties"]) == ["height", "prompt", "seed", "width"]  # sorted
    assert saved["key_order"]["/input_schema/properties"] == ["prompt", "width", "height", "seed"]  # kept
