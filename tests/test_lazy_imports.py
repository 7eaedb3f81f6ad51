"""Fetching a picture's images, in a fresh process, imports neither pandas nor jsonschema's costly parts."""

from __future__ import annotations

import json
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
