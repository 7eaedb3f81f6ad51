"""Packaging: the wheel and sdist carry the built front end, a missing one is a clear error when a widget is
made (not at import), and a saved notebook holds the front end once, however many widgets it shows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from inference_nb.widget import bundle as frontend
from inference_nb.widget.inference_widget import InferenceWidget

REPO = Path(__file__).parent.parent
BUILT = [f"inference_nb/static/{name}" for name in ("loader.js", "widget.js", "widget.css")]


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or REPO / ".tools" / "bin" / "uv"
    assert Path(found).is_file(), "uv is needed to build the packages: run ./dev setup"
    return str(found)


def newest(folder: Path) -> float:
    return max(path.stat().st_mtime for path in folder.rglob("*") if path.is_file())


def test_the_sdist_and_the_wheel_built_from_it_carry_the_front_end(tmp_path):
    # The build hook runs npm only when inference_nb/static/ is older than js/ (pyproject.toml); a test
    # must not install into the checkout, so it wants the bundle current, as ./dev setup leaves it.
    assert newest(REPO / "inference_nb" / "static") >= newest(REPO / "js"), "run `npm run build` first"
    env = {key: value for key, value in os.environ.items() if key != "SKIP_JUPYTER_BUILDER"}
    done = subprocess.run(
        [uv(), "build", "--out-dir", str(tmp_path), "--python-preference", "only-system", str(REPO)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "jupyter-builder" in done.stderr  # the hook ran, for the sdist and for the wheel built from it

    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {*BUILT, "js/widget.ts", "js/loader.ts", "package.json", "package-lock.json"} <= names
    assert not any(name.startswith(("node_modules", ".venv", "test-artifacts")) for name in names)

    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for path in BUILT:
            assert archive.read(path) == (REPO / path).read_bytes()


def test_without_a_built_front_end_the_package_imports_and_making_a_widget_says_how_to_build(tmp_path):
    shutil.copytree(
        REPO / "inference_nb",
        tmp_path / "inference_nb",
        ignore=shutil.ignore_patterns("__pycache__", "*.js", "*.css"),
    )
    script = """
import sys
import inference_nb
from inference_nb.widget import Widget
assert inference_nb.__file__.startswith(sys.argv[1]), inference_nb.__file__
try:
    Widget()
except FileNotFoundError as error:
    print(type(error).__name__, error)
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path), "INFERENCE_NB_DATA_DIR": str(tmp_path / "data")},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("FrontEndMissing The widget's front end is not built: ")
    assert "loader.js is missing" in done.stdout and "npm run build" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_bundle_missing_a_file_names_it(tmp_path):
    (tmp_path / "widget.js").write_text("export default {}")
    with pytest.raises(frontend.FrontEndMissing, match=r"widget\.css is missing.*npm ci && npm run build"):
        frontend.bundle(tmp_path)


def saved_notebook(widgets: int, tmp_path: Path) -> str:
    cells = ["import inference_nb\nclient = inference_nb.Client()"]
    cells += [f'client.widget(message="Question {n}")' for n in range(widgets)]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    return nbformat.writes(nb)


def test_a_saved_notebook_holds_the_front_end_once(tmp_path, monkeypatch):
    monkeypatch.setenv("INFERENCE_NB_DATA_DIR", str(tmp_path / "data"))
    one, four = saved_notebook(1, tmp_path), saved_notebook(4, tmp_path)
    bundle = (REPO / "inference_nb" / "static" / "widget.js").read_text()
    marker = json.dumps(bundle[len(bundle) // 2 :][:40])[1:-1]  # a stretch of the code, as the JSON file has it
    assert one.count(marker) == four.count(marker) == 1
    assert four.count("Question 3") >= 1  # the fourth widget was saved
    assert len(four) <= 1.3 * len(one), (len(one), len(four))


def test_one_shared_model_per_value_per_kernel_and_a_new_one_once_closed():
    first = frontend.shared({"rows": [1, 2]})
    assert frontend.shared({"rows": [1, 2]}) is first
    assert frontend.shared({"rows": [2, 1]}) is not first
    first.close()  # as `Widget.close_all()` does
    again = frontend.shared({"rows": [1, 2]})
    assert again is not first and again.digest == first.digest and again.comm is not None


def test_a_widget_names_its_shared_models_and_carries_only_the_loader(client):
    widget = InferenceWidget(client)
    state = widget.get_state()
    assert state["_shared"] == {
        "bundle": f"IPY_MODEL_{frontend.bundle().model_id}",
        "apps": f"IPY_MODEL_{frontend.shared(widget._shared['apps'].value).model_id}",
    }
    assert state["_esm"] == frontend.loader() and len(state["_esm"]) < 4096
    assert "apps" not in state and not state.get("_css")
