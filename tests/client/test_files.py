"""Files as task input, without a server: what is read, what is uploaded, and the upload requests."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path

import httpx
import pytest
from PIL import Image

from inference_nb.client.errors import BadResponse, InvalidRequest
from inference_nb.client.files import FilesCore, Upload, files_in, replaced, to_upload
from inference_nb.client.profile import Profile, hosted_tasks
from inference_nb.client.tasks import AsyncTasksClient, TasksClient

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
HOSTED = FilesCore(hosted_tasks("sk-hosted", "https://api.test"))


# to_upload: what a value stands for


def test_a_path_is_read_with_its_name_and_guessed_type(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    for data in (tmp_path / "notes.csv", str(tmp_path / "notes.csv")):
        upload = to_upload(data)
        assert (upload.content, upload.filename, upload.content_type) == (b"a,b\n1,2\n", "notes.csv", "text/csv")


@pytest.mark.parametrize("missing", ["nope.png", "."], ids=["no-file", "a-directory"])
def test_a_path_with_no_file_is_refused_naming_the_field(tmp_path, missing):
    with pytest.raises(InvalidRequest, match=r"^input\.image: no file at") as raised:
        to_upload(tmp_path / missing, field="input.image")
    assert raised.value.field == "input.image"


def test_bytes_are_sent_as_they_are():
    upload = to_upload(b"\x00\x01", filename="blob.bin")
    assert (upload.content, upload.filename, upload.content_type) == (
        b"\x00\x01",
        "blob.bin",
        "application/octet-stream",
    )
    assert to_upload(b"x", content_type="text/plain").content_type == "text/plain"


def test_a_pil_image_is_sent_as_png():
    upload = to_upload(Image.new("RGB", (3, 2), "red"))
    assert (upload.filename, upload.content_type) == ("image.png", "image/png")
    assert Image.open(io.BytesIO(upload.content)).size == (3, 2)


def test_a_data_uri_is_decoded():
    upload = to_upload("data:image/png;base64," + base64.b64encode(PNG_1PX).decode())
    assert (upload.content, upload.content_type) == (PNG_1PX, "image/png")
    assert to_upload("data:,hello").content == b"hello"


@pytest.mark.parametrize("uri", ["data:image/png;base64,@@@", "data:no-comma"])
def test_a_malformed_data_uri_is_refused(uri):
    with pytest.raises(InvalidRequest, match="data: URI"):
        to_upload(uri, field="input.image")


def test_anything_else_is_refused_naming_what_it_is():
    with pytest.raises(InvalidRequest, match="not dict"):
        to_upload({"uri": "x"})


def test_an_upload_never_shows_its_bytes():
    assert "secret-bytes" not in repr(to_upload(b"secret-bytes"))


# files_in / replaced: the files of an input


def test_paths_and_images_anywhere_in_the_input_are_found_with_their_field(tmp_path):
    (tmp_path / "a.png").write_bytes(PNG_1PX)
    image = Image.new("L", (1, 1))
    found = files_in({"image": tmp_path / "a.png", "more": [{"mask": image}], "prompt": "a.png"}, data_uris=False)
    assert [at for at, _ in found] == [("input", "image"), ("input", "more", 0, "mask")]


def test_a_string_is_never_read_as_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("notes.txt").write_text("private")
    assert files_in({"prompt": "notes.txt", "path": str(tmp_path / "notes.txt")}, data_uris=True) == []


def test_data_uris_are_files_only_when_asked():
    data = {"image": "data:text/plain,hi"}
    assert files_in(data, data_uris=False) == []
    assert [at for at, _ in files_in(data, data_uris=True)] == [("input", "image")]


def test_a_missing_path_in_the_input_names_its_field(tmp_path):
    with pytest.raises(InvalidRequest) as raised:
        files_in({"images": [tmp_path / "gone.png"]}, data_uris=False)
    assert raised.value.field == "input.images.0"


def test_replaced_copies_the_input_with_the_uris_in():
    original = {"image": Path("a.png"), "items": [1, Path("b.png")], "n": 2}
    new = replaced(original, {("input", "image"): "file://1", ("input", "items", 1): "file://2"})
    assert new == {"image": "file://1", "items": [1, "file://2"], "n": 2}
    assert original["image"] == Path("a.png")


# FilesCore: the two requests


def test_the_file_is_announced_with_the_key_and_the_dialect():
    request = HOSTED.create(Upload(b"abc", "a.txt", "text/plain"))
    assert (request.method, str(request.url)) == ("POST", "https://api.test/files")
    assert request.headers["authorization"] == "Bearer sk-hosted" and request.headers["inference-dialect"] == "hosted"
    assert json.loads(request.content) == {"files": [{"uri": "", "filename": "a.txt", "content_type": "text/plain",
                                                      "path": None, "size": 3, "public": None}]}  # fmt: skip


@pytest.mark.parametrize("upload_url", ["https://bucket.test/up/1?X-Sig=abc", "https://api.test/files/up/1?sig=x"])
def test_the_bytes_go_to_the_upload_url_without_the_key(upload_url):
    request = HOSTED.put({"uri": "inf://f1", "upload_url": upload_url}, Upload(b"abc", "a.txt", "text/plain"))
    assert (request.method, str(request.url), request.content) == ("PUT", upload_url, b"abc")
    assert "authorization" not in request.headers and "inference-dialect" not in request.headers
    assert request.headers["content-type"] == "text/plain"


def test_a_relative_upload_url_is_on_the_servers_origin():
    core = FilesCore(Profile("tasks", "http://127.0.0.1:8765", "k"))
    request = core.put({"uri": "u", "upload_url": "/uploads/f1?sig=x"}, Upload(b"", None, "application/octet-stream"))
    assert str(request.url) == "http://127.0.0.1:8765/uploads/f1?sig=x"


def test_an_upload_url_that_is_not_http_is_refused():
    with pytest.raises(BadResponse, match="http"):
        HOSTED.put({"uri": "u", "upload_url": "file:///etc/passwd"}, Upload(b"", None, "text/plain"))


@pytest.mark.parametrize("body", [{"data": [{"uri": "inf://f1", "upload_url": "https://b/1"}]},
                                  [{"uri": "inf://f1", "upload_url": "https://b/1"}],
                                  {"files": [{"uri": "inf://f1", "upload_url": "https://b/1"}]}])  # fmt: skip
def test_the_created_file_is_read_from_every_shape(body):
    assert HOSTED.created(body)["uri"] == "inf://f1"


@pytest.mark.parametrize("body", [{"data": []}, [{"uri": "inf://f1"}], [{"upload_url": "https://b/1"}], {}])
def test_a_files_answer_without_uri_and_upload_url_is_a_bad_response(body):
    with pytest.raises(BadResponse):
        HOSTED.created(body)


# the whole upload through the clients: a presigned URL on another origin (the embedded server's
# upload URLs are on its own origin, so this one is scripted)


def bucket_script(seen: list[httpx.Request]):
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.test":
            url = "https://bucket.test/f1?X-Sig=s"
            created = [{"id": "f1", "uri": "https://api.test/files/f1/a.txt", "upload_url": url}]
            return httpx.Response(200, json={"data": created}, headers={"inference-dialect": "hosted"})
        return httpx.Response(200)

    return answer


def test_the_key_never_goes_to_the_upload_origin():
    seen: list[httpx.Request] = []
    with httpx.Client(transport=httpx.MockTransport(bucket_script(seen))) as http:
        client = TasksClient(hosted_tasks("sk-hosted", "https://api.test"), http=http)
        file = client.upload(Upload(b"abc", "a.txt", "text/plain"))
    assert file["uri"] == "https://api.test/files/f1/a.txt"
    announce, put = seen
    assert announce.headers["authorization"] == "Bearer sk-hosted"
    assert (put.method, put.url.host, put.content) == ("PUT", "bucket.test", b"abc")
    assert not any("sk-hosted" in value for value in put.headers.values())


def test_the_async_client_uploads_the_same_way():
    seen: list[httpx.Request] = []

    async def go() -> dict:
        async with httpx.AsyncClient(transport=httpx.MockTransport(bucket_script(seen))) as http:
            client = AsyncTasksClient(hosted_tasks("sk-hosted", "https://api.test"), http=http)
            return await client.upload(Upload(b"abc", "a.txt", "text/plain"))

    assert asyncio.run(go())["uri"].endswith("/a.txt")
    assert [r.url.host for r in seen] == ["api.test", "bucket.test"] and "authorization" not in seen[1].headers


def test_an_image_png_cannot_hold_is_refused_naming_the_field():
    with pytest.raises(InvalidRequest, match=r"^input\.photo: the image cannot be saved as PNG"):
        to_upload(Image.new("CMYK", (1, 1)), field="input.photo")
