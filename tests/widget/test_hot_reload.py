"""With INFERENCE_NB_HMR set, a rebuilt front end reaches every live widget without re-running a cell."""

from __future__ import annotations

import shutil
import threading

import pytest

from inference_nb.widget import InferenceWidget
from inference_nb.widget.bundle import STATIC, BundleWatcher, hot_reload_wanted

from ..server.helpers import wait_until


@pytest.fixture
def static(tmp_path):
    for name in ("widget.js", "widget.css"):
        shutil.copy(STATIC / name, tmp_path / name)
    return tmp_path


def test_a_rebuilt_bundle_is_handed_to_each_widget_from_the_controller_thread(client, static):
    widgets = [InferenceWidget(client), InferenceWidget(client)]
    watcher = BundleWatcher(static, interval=0.05)
    writers = set()
    for widget in widgets:
        widget.observe(lambda _: writers.add(threading.current_thread().name), names=["_shared"])
        watcher.add(widget, client.controller.loop)
    before = widgets[0]._shared["bundle"]

    (static / "widget.js").write_text("export default { render() {} } // rebuilt")
    wait_until(lambda: all(w._shared["bundle"] is not before for w in widgets), "the rebuilt bundle reached both")

    assert {w._shared["bundle"].value["esm"] for w in widgets} == {"export default { render() {} } // rebuilt"}
    assert widgets[0]._shared["apps"] is widgets[1]._shared["apps"]  # the other shared values stay
    assert writers == {"inference_nb-controller"}


def test_an_unchanged_or_half_written_bundle_is_not_handed_over(client, static):
    watcher = BundleWatcher(static)
    assert watcher.check() is False
    (static / "widget.css").unlink()  # a rebuild between delete and write
    assert watcher.check() is False
    (static / "widget.css").write_text(".inb{}")
    assert watcher.check() is True


@pytest.mark.parametrize(("value", "wanted"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_hot_reload_is_asked_for_by_the_environment(monkeypatch, value, wanted):
    monkeypatch.delenv("ANYWIDGET_HMR", raising=False)
    monkeypatch.setenv("INFERENCE_NB_HMR", value)
    assert hot_reload_wanted() is wanted
