"""What a fresh process imports: the `Client` class, and a first picture, never what their paths do not need."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FIRST_PICTURE = """
import json, sys
from inference_nb import Client

client = Client(base_url=sys.argv[1], key=sys.argv[2])
run = client.run("demo/picture", {"prompt": "a lake at dawn", "width": 64, "height": 64}).wait(timeout=60)
images = run.images
print(json.dumps({"status": run.status.name, "png": images[0].data.startswith(b"\\x89PNG"),
                  "loaded": sorted(m for m in ("pandas", "rfc3987_syntax") if m in sys.modules),
                  "jsonschema": "jsonschema" in sys.modules}))
"""


def test_a_picture_run_and_its_images_import_no_pandas(embedded):
    done = subprocess.run(
        [sys.executable, "-c", FIRST_PICTURE, embedded.url, embedded.token], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["status"] == "Completed" and seen["png"]
    assert seen["jsonschema"]  # the input was checked on the way: the check below is not vacuous
    assert seen["loaded"] == []


NOT_FOR_A_CLIENT = ("pandas", "numpy", "PIL", "anywidget", "ipywidgets", "IPython", "jsonschema", "yaml", "uvicorn",
                    "starlette", "sqlite3", "filelock", "llama_cpp", "inference_nb.server",
                    "inference_nb.wire.runs")  # fmt: skip
"""What the `Client` class needs none of: the server, the libraries of results, tables and widgets, and the runs
API's models (a task needs none of them)."""
NOT_FOR_A_PICTURE = ("pandas", "numpy", "anywidget", "ipywidgets", "IPython", "yaml", "llama_cpp", "rfc3987_syntax")
"""What a first picture run, its embedded server included, does without: the official-format app loader's
yaml, the local model, the widget and the tables are for other paths."""


def loaded_in_a_fresh_process(code: str, modules: tuple[str, ...], **env: str) -> list[str]:
    listing = "\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code + listing, *modules], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_client_class_loads_neither_the_server_nor_the_libraries_of_other_paths():
    assert loaded_in_a_fresh_process("import inference_nb; inference_nb.Client", NOT_FOR_A_CLIENT) == []


def test_a_first_picture_with_its_embedded_server_loads_only_what_it_needs(tmp_path):
    first_picture = """
from inference_nb import Client
run = Client().run("demo/picture", {"prompt": "a lake at dawn", "width": 64, "height": 64}).wait(timeout=60)
assert run.images[0]._repr_mimebundle_()["image/png"]
"""
    loaded = loaded_in_a_fresh_process(
        first_picture, (*NOT_FOR_A_PICTURE, "uvicorn"), INFERENCE_NB_DATA_DIR=str(tmp_path)
    )
    assert loaded == ["uvicorn"]  # the server did start in this process: the check below is not vacuous
