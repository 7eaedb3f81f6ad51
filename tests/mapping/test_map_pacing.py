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
    assert limiter is not None and limiter.refused > 0  # the limit was met, not avoided by slowness
    assert limiter.refused < ROWS / 10, f"{limiter.refused} of the creates were answered 429"
    assert len(server_tasks(limited)) == ROWS  # a create retried after a 429 made no second task
