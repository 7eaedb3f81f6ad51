"""The user notebooks carry nbval's markers as cell tags, never as comments a reader sees (issue 11)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbval.plugin import comment_markers, find_metadata_tags

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markers_are_tags_not_comments(path):
    code = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    shown = [line for cell in code for line in cell.source.splitlines() if line.lstrip("# ").strip() in comment_markers]
    assert shown == []
    assert any(dict(find_metadata_tags(cell.metadata)).get("check") for cell in code), "no cell's output is checked"
