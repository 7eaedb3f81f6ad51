"""%%infer, %%ask and %infer_config through a real IPython shell, against a real embedded server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from pydantic import BaseModel

from inference_nb.client.errors import AuthenticationError, DeadlineExceeded, RunFailed
from inference_nb.kernel.run import Run
from inference_nb.widget.inference_widget import InferenceWidget
from inference_nb.wire.statuses import Phase


class Item(BaseModel):
    name: str
    qty: int


@dataclass
class Cell:
    error: BaseException | None
    stdout: str
    stderr: str
    outputs: list[Any]

    def ok(self) -> Cell:
        assert self.error is None, f"{type(self.error).__name__}: {self.error}\n{self.stdout}{self.stderr}"
        return self

    @property
    def data(self) -> dict[str, Any]:
        (output,) = self.outputs
        return output.data

    @property
    def provenance(self) -> dict[str, Any]:
        (output,) = self.outputs
        return output.metadata["inference_nb"]


@dataclass
class Notebook:
    shell: InteractiveShell
    seen: list[str] = field(default_factory=list)
    """Every text the cells produced: output, errors, display data, metadata."""

    def cell(self, source: str) -> Cell:
        with capture_output() as captured:
            result = self.shell.run_cell(source)
        error = result.error_before_exec or result.error_in_exec
        cell = Cell(error, captured.stdout, captured.stderr, captured.outputs)
        self.seen += [cell.stdout, cell.stderr, str(error)]
        self.seen += [json.dumps([o.data, o.metadata], default=str) for o in cell.outputs]
        return cell

    def __getitem__(self, name: str) -> Any:
        return self.shell.user_ns[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self.shell.user_ns[name] = value


@pytest.fixture
def nb(embedded, monkeypatch) -> Iterator[Notebook]:
    monkeypatch.setenv("TEST_KEY", embedded.token)
    shell = InteractiveShell.instance()
    notebook = Notebook(shell)
    notebook.cell("%load_ext inference_nb").ok()
    notebook.cell(f"%infer_config --url {embedded.url} --key-env TEST_KEY").ok()
    yield notebook
    assert not [text for text in notebook.seen if embedded.token in text], "the key was echoed"


def until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# bodies


def test_a_json_body_is_the_input_and_the_run_shows_with_its_provenance(nb, embedded):
    cell = nb.cell('%%infer demo/counter --as r\n{"amount": 5, "note": "{braces} stay"}').ok()
    run = nb["r"]
    assert isinstance(run, Run) and run.output["count"] == 5 and run.output["notes"] == ["{braces} stay"]
    assert "text/html" in cell.data and "Completed" in cell.data["text/plain"]
    assert cell.provenance == {"server": embedded.url.rstrip("/"), "protocol": "tasks",
                               "app": "demo/counter@1.0.0", "run_id": run.id}  # fmt: skip


def test_a_yaml_body_is_the_input(nb):
    nb.cell("%%infer demo/counter --as r\naction: increment\namount: 3\nnote: from yaml").ok()
    assert nb["r"].output["count"] == 3 and nb["r"].output["notes"] == ["from yaml"]


def test_plain_text_goes_to_the_main_text_field_and_image_output_shows_the_png(nb):
    cell = nb.cell("%%infer demo/picture --output image --as p\nA sunset over mountains").ok()
    assert nb["p"].raw["input"]["prompt"] == "A sunset over mountains"
    assert cell.data["image/png"] and cell.provenance["run_id"] == nb["p"].id


def test_plain_text_for_an_app_without_a_text_field_names_its_fields(nb):
    cell = nb.cell("%%infer demo/counter\nplease count")
    assert isinstance(cell.error, UsageError) and "action, amount, note" in str(cell.error)


def test_broken_json_is_refused_rather_than_sent_as_text(nb):
    cell = nb.cell('%%infer demo/picture\n{"prompt": }')
    assert isinstance(cell.error, UsageError) and "not valid JSON" in str(cell.error)


def test_interpolation_only_when_asked_and_a_missing_variable_is_named(nb):
    nb["n"] = 4
    nb.cell('%%infer demo/counter --interpolate --as r\n{{"amount": {n}}}').ok()
    assert nb["r"].output["count"] == 4
    cell = nb.cell('%%infer demo/counter --interpolate\n{{"amount": {nope}}}')
    assert isinstance(cell.error, UsageError) and "'nope'" in str(cell.error)


# options


def test_help_prints_the_usage_and_runs_nothing(nb, client):
    for magic in ("%infer --help", "%ask --help", "%infer_config --help"):
        cell = nb.cell(magic).ok()
        assert cell.stdout.startswith("usage: %") and "--timeout SECONDS" in cell.stdout
        assert not cell.outputs
    assert client.runs() == []


BAD_LINES = {
    "%%infer demo/counter --bogus": "--bogus",
    "%%infer demo/counter --output tabel": "--output",
    "%%infer demo/counter --timeout -1": "--timeout",
    "%%infer demo/counter --setup '[1]'": "--setup",
    "%%infer demo/counter --setup 'nope'": "--setup",
    "%%infer demo/counter --as 1x": "--as",
    "%%infer demo/counter --no-wait --output table": "--output",
    "%%infer demo/counter --no-wait --timeout 5": "--timeout",
    "%%infer demo/counter --session 'unclosed": "cannot split",
    "%%infer demo/counter --session last": "--session last",
    "%%infer no/such-app\nplain text": "no app 'no/such-app'",
    "%%ask --schema NoSuchModel": "NoSuchModel",
    "%%ask --schema '{not json'": "--schema",
}


def test_bad_options_are_usage_errors_naming_the_option_and_start_nothing(nb, client):
    # One server for all the lines: none of them may reach it.
    for line, named in BAD_LINES.items():
        cell = nb.cell(line if "\n" in line else f"{line}\n{{}}")
        assert isinstance(cell.error, UsageError) and named in str(cell.error), line
    assert client.runs() == []


def test_sessions_new_then_last_then_an_explicit_id(nb):
    nb.cell('%%infer demo/counter --session new --as a\n{"amount": 2}').ok()
    nb.cell('%%infer demo/counter --session last --as b\n{"amount": 3}').ok()
    session = nb["a"].session_id
    nb.cell(f'%%infer demo/counter --session {session} --as c\n{{"amount": 4}}').ok()
    assert [nb[name].output["count"] for name in "abc"] == [2, 5, 9]
    assert {nb[name].session_id for name in "abc"} == {session}
    nb.cell("%infer demo/counter --as d").ok()  # the line form: default input, no session
    assert nb["d"].output["count"] == 1 and nb["d"].session_id is None


def test_setup_reaches_the_app(nb):
    nb.cell('%%infer test/echo --setup \'{"mode": "fast"}\' --as e\nhello').ok()
    assert nb["e"].output["setup"] == {"mode": "fast"} and nb["e"].output["text"] == "hello"


def test_a_timeout_raises_and_cancels_the_run_on_the_server(nb, client):
    started = time.monotonic()
    cell = nb.cell('%%infer demo/sleep --timeout 0.5 --as s\n{"seconds": 30}')
    assert isinstance(cell.error, DeadlineExceeded) and time.monotonic() - started < 10
    assert cell.stdout.strip() == f"DeadlineExceeded: {cell.error}"
    until(lambda: client.get(nb["s"].id).status.phase is Phase.CANCELLED)


def test_no_wait_shows_the_run_at_once_and_the_stored_run_can_wait_later(nb):
    cell = nb.cell('%%infer demo/sleep --no-wait --as s\n{"seconds": 0.2}').ok()
    assert "Completed" not in cell.data["text/plain"] and cell.provenance["run_id"] == nb["s"].id
    assert nb["s"].wait().status.phase is Phase.SUCCEEDED


# output forms


def test_table_output_is_a_dataframe_with_provenance(nb):
    cell = nb.cell("%%infer demo/sql --output table --as q\nSELECT name, qty FROM inventory LIMIT 3").ok()
    assert 'class="dataframe"' in cell.data["text/html"] and "qty" in cell.data["text/plain"]
    assert cell.provenance["run_id"] == nb["q"].id and cell.provenance["app"] == "demo/sql@1.0.0"


def test_json_output_is_the_result_and_raw_output_the_server_object(nb):
    cell = nb.cell('%%infer demo/counter --output json\n{"amount": 7}').ok()
    assert cell.data["application/json"]["count"] == 7 and json.loads(cell.data["text/plain"])["count"] == 7
    cell = nb.cell('%%infer demo/counter --output raw --as r\n{"amount": 7}').ok()
    assert cell.data["application/json"]["id"] == nb["r"].id == cell.provenance["run_id"]
    assert cell.data["application/json"]["input"] == {"amount": 7}


def test_widget_output_is_the_widget_prefilled_with_the_cell(nb, client):
    cell = nb.cell("%%infer demo/picture --output widget --session new --as w\nA lighthouse").ok()
    widget = nb["w"]
    assert isinstance(widget, InferenceWidget) and cell.data["application/vnd.jupyter.widget-view+json"]
    assert (widget.mode, widget.app, widget.input_values, widget.session) == (
        "app", "demo/picture@1.0.0", {"prompt": "A lighthouse"}, "new")  # fmt: skip
    nb.cell("%%infer demo/counter --output widget --session sess_given --as w\n{}").ok()
    assert (nb["w"].session, nb["w"].last_session_id) == ("last", "sess_given")  # the widget's "last" is that one
    nb["Item"] = Item
    nb.cell("%%ask --output widget --schema Item --as w\nHow many hammers?").ok()
    assert nb["w"].message == "How many hammers?" and nb["w"].schema_locked
    assert client.runs() == []  # the widget starts runs when Submit is clicked, not before


# %%ask


def test_ask_with_a_pydantic_type_gives_instances(nb):
    nb["Item"] = Item
    cell = nb.cell("%%ask --schema list[Item] --as q\nWhat does our inventory look like?").ok()
    assert all(isinstance(item, Item) for item in nb["q"].result) and nb["q"].result
    assert cell.provenance["cluster"] == "demo" and cell.provenance["run_id"] == nb["q"].id


def test_ask_with_inline_json_schema_as_a_table(nb):
    schema = '{"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}'
    cell = nb.cell(f"%%ask --schema '{schema}' --output table --as q\nWhat does our inventory look like?").ok()
    assert nb["q"].result[0] == {"name": "Claw Hammer"} and "Claw Hammer" in cell.data["text/plain"]


def test_ask_on_a_cluster_without_functions_fails_the_cell(nb):
    cell = nb.cell("%%ask --cluster local --as q\nAnything?")  # "local" has no functions registered here
    assert isinstance(cell.error, RunFailed) and nb["q"].status.phase is Phase.FAILED
    assert cell.stdout.strip() == f"RunFailed: {cell.error}"
    cell = nb.cell("%%ask --cluster nowhere\nAnything?")
    assert "no cluster 'nowhere'" in cell.stdout and len(cell.stdout.strip().splitlines()) == 1


# failures and configuration


def test_a_failed_run_fails_the_cell_with_one_short_line(nb):
    cell = nb.cell('%%infer demo/fail --as f\n{"message": "boom"}')
    assert isinstance(cell.error, RunFailed)
    assert cell.stdout.strip() == f"RunFailed: demo/fail@1.0.0 ({nb['f'].id}) failed: RuntimeError: boom"
    cell = nb.cell("%%infer demo/counter --output image --as c\n{}")
    assert cell.stdout.strip() == f"InferenceError: demo/counter@1.0.0 ({nb['c'].id}) has no images to show"


def test_config_shows_and_changes_settings_without_the_key(nb, embedded, monkeypatch):
    shown = nb.cell("%infer_config").ok().stdout
    assert embedded.url in shown and "$TEST_KEY" in shown and "600 s" in shown
    shown = nb.cell("%infer_config --cluster elsewhere --timeout 0.5").ok().stdout
    assert "cluster elsewhere" in shown and "0.5 s" in shown
    cell = nb.cell('%%infer demo/sleep\n{"seconds": 30}')
    assert isinstance(cell.error, DeadlineExceeded)  # the configured wait

    cell = nb.cell(f"%infer_config --url {embedded.url} --key-env MISSING_KEY_VAR")
    assert isinstance(cell.error, UsageError) and "$MISSING_KEY_VAR is not set" in str(cell.error)
    typed_key = "typed-by-mistake-0123456789abcdef"  # a key where the variable's name belongs
    cell = nb.cell(f"%infer_config --url {embedded.url} --key-env {typed_key}")
    assert isinstance(cell.error, UsageError) and "not shown" in str(cell.error)
    assert typed_key not in str(cell.error) + cell.stdout + cell.stderr
    assert "$TEST_KEY" in nb.cell("%infer_config").ok().stdout  # unchanged by the refused changes

    monkeypatch.setenv("WRONG_KEY", "sk-wrong-key-0123456789")
    nb.cell("%infer_config --key-env WRONG_KEY").ok()
    cell = nb.cell("%infer demo/counter")
    assert isinstance(cell.error, AuthenticationError)
    assert not [text for text in nb.seen if "sk-wrong-key-0123456789" in text]


def test_embedded_goes_back_to_the_embedded_server(nb):
    shown = nb.cell("%infer_config --embedded").ok().stdout
    assert "tasks server: embedded server" in shown and "key" not in shown
    cell = nb.cell("%%infer demo/counter --output json\n{}").ok()
    assert cell.provenance["server"] == "embedded server"


def test_hosted_switches_to_the_hosted_formats_without_the_key(nb, embedded, monkeypatch):
    monkeypatch.setenv("HOSTED_KEY", "inf-hosted-test-key-0123")
    shown = nb.cell("%infer_config --hosted --key-env HOSTED_KEY").ok().stdout
    assert "renumbered 2026" in shown and "$HOSTED_KEY" in shown
    profile = nb.shell.magics_manager.registry["InferenceMagics"].client.profile("tasks")
    assert (profile.run_path, profile.numbering.label, profile.embedded) == (
        "/apps/run",
        "renumbered 2026 (0..13)",
        False,
    )
    assert nb.cell("%infer_config --hosted").ok()  # keeps the key variable it has
    assert isinstance(nb.cell("%infer_config --embedded --hosted").error, UsageError)
    assert "spec (1..11)" in nb.cell(f"%infer_config --url {embedded.url} --key-env TEST_KEY").ok().stdout
    assert not [text for text in nb.seen if "inf-hosted-test-key-0123" in text]


def test_a_widget_of_an_app_named_without_version_opens_its_newest_version_prefilled(nb):
    nb.cell('%%infer test/echo --output widget --as w\n{"text": "kept"}').ok()
    assert nb["w"].app == "test/echo@2.0.0" and nb["w"].input_values == {"text": "kept"}
