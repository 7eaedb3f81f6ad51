"""`client.map` against a rate-limited server (`start_server(rate_limit=)`): it paces itself, and a
429 never fails a row. How fast, against the ideal, is a benchmark's (benchmarks/map_pacing.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inference_nb.api import Client
from inference_nb.server import EmbeddedServer, start_server

from .test_mapping import server_tasks

RATE = 20
ROWS = 200


@pytest.fixture
def limited(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "server", rate_limit=RATE, max_workers=16) as srv:
        yield srv


def test_a_rate_limited_map_loses_no_row_and_few_of_its_requests_are_refused(limited):
    client = Client(base_url=limited.url, key=limited.token, wait_timeout=60)
    rows = [{"seconds": n / 1e6} for n in range(ROWS)]  # distinct rows: one task each

    table = client.map("demo/sleep", rows, progress=False)

    assert table["status"].value_counts().to_dict() == {"succeeded": ROWS}
    assert table["error"].isna().all()
    limiter = limited.rate_limiter
    assert limiter is not None and limiter.refused < ROWS / 10, f"{limiter.refused} creates were answered 429"
    assert len(server_tasks(limited)) == ROWS  # a create retried after a 429 made no second task


def test_rows_refused_with_429_again_and_again_still_end_succeeded(tmp_path):
    # One request a second, five rows at once: most creates meet a 429, some more than once.
    with start_server(data_dir=tmp_path / "server", rate_limit=1) as limited:
        client = Client(base_url=limited.url, key=limited.token, wait_timeout=60)
        table = client.map("demo/sleep", [{"seconds": n / 1e6} for n in range(5)], concurrency=5, progress=False)
        assert limited.rate_limiter is not None and limited.rate_limiter.refused >= 2
        assert table["status"].tolist() == ["succeeded"] * 5
