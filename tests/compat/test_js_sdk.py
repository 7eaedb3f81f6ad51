"""The official JS SDK `@inferencesh/sdk` (pinned in package.json), unchanged, against the embedded server.

`js/sdk_flows.mjs` holds the flows; Node runs them all once against a server on loopback, one JSON
line per flow, and each flow is one test here, so a failure names its flow and carries Node's error.
Node cannot import the SDK's compiled ESM without help (its imports lack `.js` extensions), so
the flows register a resolve hook first: `js/extensionless_hook.mjs`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from inference_nb.server import start_server

FLOWS_FILE = Path(__file__).parent / "js" / "sdk_flows.mjs"
SDK_PACKAGE = Path(__file__).parents[2] / "node_modules" / "@inferencesh" / "sdk" / "package.json"
FLOWS = re.findall(r'^flow\("([a-z0-9_]+)"', FLOWS_FILE.read_text(), flags=re.MULTILINE)
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Every flow's result, by name, from one Node run against one server."""
    if NODE is None:
        pytest.skip("the JS SDK tests need node on PATH")
    assert SDK_PACKAGE.exists(), "@inferencesh/sdk is not installed: run npm ci (./dev setup)"
    assert json.loads(SDK_PACKAGE.read_text())["version"] == "0.6.54"
    with start_server(data_dir=tmp_path_factory.mktemp("js-sdk") / "data") as server:
        env = {**os.environ, "INFERENCE_BASE_URL": server.url, "INFERENCE_TOKEN": server.token}
        ran = subprocess.run([NODE, str(FLOWS_FILE)], env=env, capture_output=True, text=True, timeout=600)
    lines = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    assert lines, f"node printed no results (exit {ran.returncode}):\n{ran.stderr[-4000:]}"
    return {line["flow"]: line for line in lines}


@pytest.mark.parametrize("flow", FLOWS)
def test_flow(results, flow):
    assert flow in results, f"node ended before flow {flow} reported"
    assert results[flow]["ok"], results[flow]["error"]


def test_every_flow_reported(results):
    assert len(FLOWS) >= 20 and sorted(results) == sorted(FLOWS)
