"""render.py: results → DataFrame / files / images / the notebook display, without any network."""

from __future__ import annotations

import base64
import subprocess
import sys
from io import BytesIO

import pytest
from PIL import Image
from pydantic import BaseModel

from inference_nb.results.display import bundle
from inference_nb.results.files import FileRef, InlineImage, find_files, images
from inference_nb.results.frames import to_dataframe

XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
BASE = "http://127.0.0.1:41234/files/task_x"


def png_bytes(size=(4, 3), colour=(200, 30, 40)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def render(**overrides):
    args = dict(
        title="demo/sql",
        status_name="Completed",
        phase="succeeded",
        elapsed=1.23,
        result=None,
        summary=None,
        error=None,
        images=[],
        provenance={"server": "local", "app": "demo/sql@1.0.0", "run_id": "task_1"},
    )
    args.update(overrides)
    return bundle(**args)


# --- to_dataframe ---------------------------------------------------------------------------------


def test_nested_objects_become_dotted_columns_in_order_of_first_appearance():
    df = to_dataframe([{"id": 1, "user": {"name": "a", "geo": {"lat": 1.5}}}, {"id": 2, "extra": [1, 2]}])
    assert list(df.columns) == ["id", "user.name", "user.geo.lat", "extra"]
    assert df.loc[0, "user.geo.lat"] == 1.5
    assert df.loc[1, "extra"] == [1, 2]  # values are kept, not turned into strings


def test_sql_output_gives_its_rows():
    output = {"columns": ["city", "n"], "rows": [{"city": "Oslo", "n": 3}, {"city": "Rome", "n": 5}], "row_count": 2}
    df = to_dataframe(output)
    assert list(df.columns) == ["city", "n"]
    assert df["n"].tolist() == [3, 5]


def test_an_object_with_two_arrays_of_objects_is_one_row():
    df = to_dataframe({"a": [{"x": 1}], "b": [{"y": 2}], "meta": {"n": 1}})
    assert len(df) == 1
    assert list(df.columns) == ["a", "b", "meta.n"]


def test_pydantic_models_are_dumped():
    class City(BaseModel):
        name: str
        location: dict

    df = to_dataframe([City(name="Oslo", location={"lat": 59.9}), City(name="Rome", location={"lat": 41.9})])
    assert list(df.columns) == ["name", "location.lat"]
    assert df["name"].tolist() == ["Oslo", "Rome"]
    assert list(to_dataframe(City(name="Oslo", location={})).columns) == ["name"]


def test_scalars_lists_of_scalars_and_none():
    assert to_dataframe([3, 4]).to_dict("list") == {"value": [3, 4]}
    one = to_dataframe(42)
    assert one.shape == (1, 1) and one.loc[0, "value"] == 42
    assert to_dataframe("text").loc[0, "value"] == "text"
    assert to_dataframe(None).empty and to_dataframe([]).empty


# --- find_files -----------------------------------------------------------------------------------


def test_find_files_walks_nested_outputs_and_bare_urls():
    output = {
        "image": {"uri": f"{BASE}/picture.png", "content_type": "image/png", "size": 7173, "filename": "picture.png"},
        "palette": ["#ff0000"],
        "width": 512,
        "more": [f"{BASE}/extra.jpg", {"report": {"uri": f"{BASE}/r%201.pdf"}}],
        "link": "https://example.com/about",  # an ordinary link, not a file
    }
    assert find_files(output) == [
        FileRef(f"{BASE}/picture.png", "image/png", "picture.png", 7173, "image"),
        FileRef(f"{BASE}/extra.jpg", "image/jpeg", "extra.jpg", None, "more.0"),
        FileRef(f"{BASE}/r%201.pdf", "application/pdf", "r 1.pdf", None, "more.1.report"),
    ]


def test_find_files_on_a_bare_url_output_and_on_nothing():
    assert [f.field for f in find_files(f"{BASE}/a.svg")] == [""]
    assert find_files(f"{BASE}/a.svg")[0].content_type == "image/svg+xml"
    assert find_files({"text": "hello", "n": 1}) == []


# --- images ---------------------------------------------------------------------------------------


def test_images_fetch_through_the_callable_and_skip_other_files():
    png = png_bytes()
    store = {f"{BASE}/picture.png": png, f"{BASE}/data.csv": b"a,b\n1,2\n"}
    fetched = []

    def fetch(uri):
        fetched.append(uri)
        return store[uri]

    output = {"image": {"uri": f"{BASE}/picture.png", "content_type": "image/png"}, "table": f"{BASE}/data.csv"}
    [image] = images(output, fetch)
    assert fetched == [f"{BASE}/picture.png"]
    assert (image.data, image.content_type, image.filename) == (png, "image/png", "picture.png")


def test_images_reject_bytes_that_are_not_an_image_naming_the_field():
    output = {"more": [{"uri": f"{BASE}/fake.png?sig=s3cr3t", "content_type": "image/png"}]}
    with pytest.raises(ValueError, match=r"'more\.0'.*fake\.png") as info:
        images(output, lambda uri: b"<html>not found</html>")
    assert "s3cr3t" not in str(info.value)  # a signed URL's query is a credential


def test_images_reject_a_truncated_png():
    png = png_bytes((50, 50))
    with pytest.raises(ValueError, match="not a readable image"):
        images({"image": f"{BASE}/cut.png"}, lambda uri: png[: len(png) // 2])


def test_images_trust_the_bytes_over_the_declared_type():
    buffer = BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="JPEG")
    [image] = images({"image": {"uri": f"{BASE}/x.png", "content_type": "image/png"}}, lambda uri: buffer.getvalue())
    assert image.content_type == "image/jpeg"


def test_svg_images_are_checked_as_text():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
    [image] = images(f"{BASE}/logo.svg", lambda uri: svg)
    assert image._repr_mimebundle_()["image/svg+xml"] == svg.decode()
    with pytest.raises(ValueError, match="logo.svg"):
        images(f"{BASE}/logo.svg", lambda uri: b"plain text")


# --- InlineImage ----------------------------------------------------------------------------------


def test_inline_image_mimebundle_is_base64_of_the_png_and_round_trips(tmp_path):
    png = png_bytes((5, 7), (10, 20, 30))
    image = InlineImage(png, "image/png", "picture.png")
    data = image._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]) == png
    assert data["text/plain"] == repr(image) == f"<image picture.png, {len(png)} B>"
    assert image._repr_png_() == png and image._repr_jpeg_() is None
    assert image._repr_mimebundle_(include=["text/plain"]) == {"text/plain": repr(image)}
    pil = image.to_pil()
    assert pil.size == (5, 7) and pil.getpixel((0, 0)) == (10, 20, 30)
    assert image.save(tmp_path / "out.png").read_bytes() == png


def test_size_text_matches_the_example():
    assert repr(InlineImage(b"x" * 7173, "image/png", "picture.png")) == "<image picture.png, 7.0 kB>"


def test_formats_notebooks_may_not_show_are_converted_to_png():
    buffer = BytesIO()
    Image.new("RGB", (3, 3), (1, 2, 3)).save(buffer, format="WEBP", lossless=True)
    data = InlineImage(buffer.getvalue(), "image/webp", "a.webp")._repr_mimebundle_()
    assert "image/webp" not in data
    assert Image.open(BytesIO(base64.b64decode(data["image/png"]))).getpixel((0, 0)) == (1, 2, 3)


# --- bundle ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"result": [{"name": XSS}]},
        {"result": [{XSS: 1}]},
        {"result": {"note": XSS}},  # not tabular: JSON in a <pre>
        {"summary": XSS, "result": {"a": 1}},
        {"phase": "failed", "status_name": "Failed", "error": XSS},
        {"summary": XSS},  # done without a result
        {"title": XSS, "status_name": XSS},
    ],
)
def test_bundle_escapes_all_server_text(overrides):
    data, _ = render(**overrides)
    assert XSS not in data["text/html"]
    assert XSS_ESCAPED in data["text/html"]


def test_failed_and_done_without_result_look_different():
    failed, _ = render(phase="failed", status_name="failed", error="No functions available")
    empty, _ = render(status_name="done", summary="The lookup function raised an error")
    assert "Failed: No functions available" in failed["text/plain"]
    assert "No result: The lookup function raised an error" in empty["text/plain"]
    assert "inb-failed" in failed["text/html"] and "inb-failed" not in empty["text/html"]
    assert "inb-notice" in empty["text/html"] and "inb-notice" not in failed["text/html"]
    assert "jp-error-color" in failed["text/html"] and "jp-error-color" not in empty["text/html"]
    assert "<b>Failed:</b> No functions available" in failed["text/html"]
    assert "<b>No result:</b> The lookup function raised an error" in empty["text/html"]


def test_status_pill_colours():
    def pill(phase):
        return render(phase=phase)[0]["text/html"]

    assert "jp-success-color1" in pill("succeeded")
    assert "jp-error-color1" in pill("failed")
    assert "jp-brand-color1" in pill("running")
    assert not any(c in pill("cancelled") for c in ("jp-success-color1", "jp-error-color1", "jp-brand-color1"))


def test_plain_text_is_readable_and_truncated():
    rows = [{"city": f"city{i}", "n": i} for i in range(40)]
    data, _ = render(result={"columns": ["city", "n"], "rows": rows, "row_count": 40}, summary="40 cities")
    lines = data["text/plain"].splitlines()
    assert lines[0] == "demo/sql — Completed (1.2 s)"
    assert lines[1] == "40 cities"
    assert "city" in lines[2] and "n" in lines[2]
    assert "city9" in data["text/plain"] and "city10" not in data["text/plain"]
    assert lines[-1] == "(10 of 40 rows)"

    big, _ = render(result={"text": "word " * 10_000}, elapsed=None)
    assert big["text/plain"].startswith("demo/sql — Completed\n")
    assert len(big["text/plain"]) <= 2000 and big["text/plain"].endswith("…")
    assert len(big["text/html"]) < 25_000  # the JSON preview is capped too


def test_html_table_preview_is_capped_at_20_rows():
    data, _ = render(result=[{"i": i} for i in range(25)])
    assert "showing 20 of 25 rows" in data["text/html"]
    assert "<td>19</td>" in data["text/html"] and "<td>20</td>" not in data["text/html"]


def test_images_are_embedded_not_linked():
    png = png_bytes()
    result = {"image": {"uri": f"{BASE}/picture.png"}}
    data, _ = render(result=result, images=[InlineImage(png, "image/png", "picture.png")])
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in data["text/html"]
    assert 'src="http' not in data["text/html"]
    assert "max-width:100%" in data["text/html"]


def test_provenance_metadata_drops_secret_looking_keys():
    provenance = {
        "server": "local",
        "cluster": "c1",
        "run_id": "r1",
        "key": "inf_live_abc123",
        "token": "tok_abc123",
        "Authorization": "Bearer sk_abc123",
        "api_key": "sk_abc123",
        "headers": {"authorization": "sk_abc123", "accept": "json"},
        "note": "Bearer sk_abc123",
    }
    data, metadata = render(provenance=provenance)
    assert metadata == {
        "inference_nb": {"server": "local", "cluster": "c1", "run_id": "r1", "headers": {"accept": "json"}}
    }
    assert "abc123" not in repr((data, metadata))


def test_render_works_without_ipython():
    code = (
        "import sys; sys.modules['IPython'] = None\n"  # any import of IPython now fails
        "from inference_nb.results.display import bundle\nfrom inference_nb.results.frames import to_dataframe\n"
        "print(to_dataframe([{'a': {'b': 1}}]).columns.tolist())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['a.b']"
