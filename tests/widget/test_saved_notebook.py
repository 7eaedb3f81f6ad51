"""An executed and saved notebook (outputs and widget state included) holds no key and no server token."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

CELLS = [
    """import os, time
from pathlib import Path
import inference_nb

client = inference_nb.Client()
server = inference_nb.embedded_server()
Path(os.environ["TOKEN_FILE"]).write_text(server.token)  # to the test, not into the notebook
client, server""",
    """run = client.run("demo/picture", {"prompt": "A sunset", "width": 64, "height": 64}).wait()
run""",
    """widget = client.widget(message="What does our inventory look like?")
widget""",
    """widget._on_message(widget, {"type": "submit", "id": "m1", "mode": "ask", "message": widget.message,
                               "schema_text": ""}, [])
deadline = time.monotonic() + 30
while not (widget.run and widget.run.done) and time.monotonic() < deadline:
    time.sleep(0.05)
widget.run""",
    """client.ask("What is the value of our inventory?").wait()""",
]


def test_an_executed_notebook_keeps_no_secret(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    monkeypatch.setenv("TOKEN_FILE", str(token_file))
    monkeypatch.setenv("INFERENCE_NB_DATA_DIR", str(tmp_path / "data"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    saved = nbformat.writes(nb)

    token = token_file.read_text()
    assert len(token) >= 32
    assert token not in saved and "Bearer" not in saved
    widget_state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(w["state"].get("runs") for w in widget_state.values())  # the widget's runs were saved, and checked:
    run_views = [w["state"]["view"] for w in widget_state.values() if "view" in w["state"]]  # one model per run
    assert [v["phase"] for v in run_views] == ["succeeded"]
    assert "data:image/png;base64," in saved  # and the run's image was embedded, not linked
