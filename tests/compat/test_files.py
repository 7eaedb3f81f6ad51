"""Uploads through the official SDK (a path, bytes, a data URI, a local path in an input), then a
task that reads the uploaded file; and the upload URL's own signature."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from inferencesh import TaskStatus, UploadFileOptions, parse_status

from inference_nb.server.tasks.uploads import sign_upload, upload_key

CSV = "name,qty\nSonic Screwdriver,10\nTowel,5\n"
QUERY = "SELECT name, qty FROM uploaded ORDER BY qty DESC"
ROWS = [{"name": "Sonic Screwdriver", "qty": 10}, {"name": "Towel", "qty": 5}]


def _query(sdk, csv_file: str) -> dict:
    return sdk(lambda c: c.run({"app": "demo/sql", "input": {"query": QUERY, "csv_file": csv_file}}))


@pytest.fixture
def csv_path(tmp_path) -> Path:
    path = tmp_path / "stock.csv"
    path.write_text(CSV)
    return path


def test_upload_from_a_path_then_a_task_reads_it(sdk, csv_path, http):
    file = sdk(lambda c: c.files.upload(str(csv_path)))
    assert (file["filename"], file["content_type"], file["size"]) == ("stock.csv", "text/csv", len(CSV))
    assert http.get(file["uri"]).text == CSV
    task = _query(sdk, file["uri"])
    assert parse_status(task["status"]) is TaskStatus.COMPLETED and task["output"]["rows"] == ROWS
    listed = sdk(lambda c: c.tasks.files(task["id"], role="input")).data
    assert [(f["role"], f["uri"]) for f in listed] == [("input", file["uri"])]


def test_upload_from_bytes_and_from_a_data_uri(sdk):
    options = UploadFileOptions(filename="stock.csv", content_type="text/csv")
    from_bytes = sdk(lambda c: c.files.upload(CSV.encode(), options))
    data_uri = "data:text/csv;base64," + base64.b64encode(CSV.encode()).decode()
    from_uri = sdk(lambda c: c.files.upload(data_uri))
    assert from_uri["content_type"] == "text/csv"
    for file in (from_bytes, from_uri):
        assert _query(sdk, file["uri"])["output"]["rows"] == ROWS


def test_a_local_path_in_an_input_is_uploaded_by_the_sdk(sdk, csv_path):
    task = _query(sdk, str(csv_path))
    assert task["output"]["rows"] == ROWS
    assert urlsplit(task["input"]["csv_file"]).path.endswith("/stock.csv")  # the server saw its uri, not the path


def test_an_input_file_that_is_not_on_the_server_names_the_field(sdk):
    from inferencesh import APIError

    with pytest.raises(APIError) as refused:
        _query(sdk, "https://example.org/stock.csv")
    assert refused.value.status_code == 422 and "input.csv_file:" in refused.value.message


def _declare(http: httpx.Client, size: int) -> dict:
    body = {"files": [{"uri": "", "filename": "a.txt", "content_type": "text/plain", "size": size}]}
    answer = http.post("/files", json=body)
    assert answer.status_code == 200 and answer.headers["Inference-Dialect"] == "hosted"
    return answer.json()["data"][0]


def test_the_upload_url_needs_no_key_but_its_own_signature(server, http):
    file = _declare(http, 2)
    url = urlsplit(file["upload_url"])
    unsigned = f"{server.url}{url.path}"
    assert httpx.put(unsigned, content=b"hi").status_code == 403
    query = parse_qs(url.query)
    tampered = f"{unsigned}?expires={int(query['expires'][0]) + 1}&signature={query['signature'][0]}"
    refused = httpx.put(tampered, content=b"hi")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert query["signature"][0] not in refused.text
    assert httpx.put(file["upload_url"], content=b"hi").status_code == 200  # no Authorization header
    assert httpx.put(file["upload_url"], content=b"hi").status_code == 409  # a file's bytes are set once
    assert http.get(file["uri"]).content == b"hi"


def test_an_expired_upload_url_is_refused(server, http):
    file = _declare(http, 2)
    path = urlsplit(file["upload_url"]).path
    secret = (server.data_dir / "webhook_secret").read_text().strip()
    expired = int(time.time()) - 1
    signed = f"{server.url}{path}?expires={expired}&signature={sign_upload(upload_key(secret), path, expired)}"
    refused = httpx.put(signed, content=b"hi")
    assert refused.status_code == 403 and "expired" in refused.json()["detail"]


def test_the_bytes_must_be_the_size_declared(http):
    file = _declare(http, 5)
    too_long = httpx.put(file["upload_url"], content=b"123456")
    assert too_long.status_code == 413
    too_short = httpx.put(file["upload_url"], content=b"1234")
    assert too_short.status_code == 409 and "4 bytes but 5 were declared" in too_short.json()["detail"]
    assert http.get(file["uri"]).status_code == 404
