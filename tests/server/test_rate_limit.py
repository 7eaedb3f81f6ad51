"""`--rate-limit` / `start_server(rate_limit=)`: a token bucket per key, 429 with Retry-After beyond it."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from inference_nb.server import start_server
from inference_nb.server.rate_limit import TokenBucket

from .helpers import FakeClock


def test_the_bucket_holds_one_second_and_says_how_long_until_the_next_token():
    bucket = TokenBucket(4)
    assert [bucket.take(0.0) for _ in range(4)] == [0.0] * 4
    assert bucket.take(0.0) == pytest.approx(0.25)
    assert bucket.take(0.125) == pytest.approx(0.125)  # half a token came back
    assert bucket.take(0.25) == 0.0
    assert bucket.take(100.0) == 0.0 and bucket.tokens == pytest.approx(3)  # never more than a second's worth


def test_beyond_the_rate_a_key_gets_429_with_retry_after_and_its_tokens_come_back(tmp_path):
    clock = FakeClock()  # stands still: only the test lets time pass
    with start_server(data_dir=tmp_path, rate_limit=3, clock=clock) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            assert [api.get("/apps").status_code for _ in range(3)] == [200, 200, 200]
            refused = api.post("/run?wait=false", json={"app": "demo/sleep", "input": {"seconds": 0}})
            assert refused.status_code == 429, refused.text
            assert refused.headers["retry-after"] == "1"  # whole seconds, as HTTP has them
            assert "rate limit of 3 requests a second" in refused.json()["error"]["message"]
            hosted = api.post("/apps/run", json={"app": "demo/sleep", "input": {"seconds": 0}})
            assert hosted.status_code == 429 and hosted.json()["type"] == "/errors/rate_limited"
            clock.advance(0.5)  # one and a half tokens
            assert api.get("/tasks").json()["tasks"] == []  # a refused create made no task
            assert api.get("/apps").status_code == 429
            # A request without the key is refused for that, and spends nobody's tokens.
            assert httpx.get(f"{server.url}/apps").status_code == 401
        assert (server.rate_limiter.admitted, server.rate_limiter.refused) == (4, 3)


def test_without_a_rate_limit_nothing_is_refused(api, server):
    assert server.rate_limiter is None
    assert all(api.get("/apps").status_code == 200 for _ in range(30))


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf")])
def test_a_rate_limit_that_is_not_a_positive_rate_is_refused_before_starting(tmp_path, rate):
    with pytest.raises(ValueError, match="rate_limit must be requests per second > 0"):
        start_server(data_dir=tmp_path, rate_limit=rate)


def test_the_cli_names_the_option():
    result = subprocess.run(
        [sys.executable, "-m", "inference_nb.cli", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "--rate-limit RATE" in result.stdout
