"""App ids without a version mean the newest one: in the Client, the widget and the magics (issue 11)."""

from __future__ import annotations

import pytest

from inference_nb.client.app_ids import resolve_app
from inference_nb.client.errors import InvalidRequest
from inference_nb.widget.inference_widget import InferenceWidget

LISTED = [
    {"id": "test/echo@2.0.0", "latest": True},
    {"id": "test/echo@1.0.0", "latest": False},
    {"id": "demo/picture@1.0.0", "latest": True},
    {"id": "demo/chart@1.0.0", "latest": True},
]


@pytest.mark.parametrize(
    ("written", "resolved"),
    [("test/echo", "test/echo@2.0.0"), ("test/echo@1.0.0", "test/echo@1.0.0"), ("demo/picture", "demo/picture@1.0.0")],
)
def test_a_name_resolves_to_its_latest_version_and_a_full_id_to_itself(written, resolved):
    assert resolve_app(written, LISTED)["id"] == resolved


def test_without_a_latest_mark_the_last_listed_version_is_taken():
    assert resolve_app("test/echo", [{"id": "test/echo@1.0.0"}, {"id": "test/echo@1.1.0"}])["id"] == "test/echo@1.1.0"


def test_an_unknown_app_names_the_closest_apps_first():
    with pytest.raises(InvalidRequest) as raised:
        resolve_app("demo/pictures", LISTED)
    assert raised.value.field == "app"
    assert str(raised.value).startswith("app: no app 'demo/pictures'; did you mean demo/picture? apps: demo/picture, ")
    assert "test/echo" in str(raised.value)


def test_an_unknown_version_lists_the_versions_there_are():
    with pytest.raises(InvalidRequest) as raised:
        resolve_app("test/echo@3.0", LISTED)
    assert str(raised.value) == "app: no version 'test/echo@3.0'; there are test/echo@2.0.0, test/echo@1.0.0"


def test_an_empty_list_says_so():
    with pytest.raises(InvalidRequest, match="lists no apps"):
        resolve_app("demo/picture", [])


def test_the_client_runs_the_newest_version_of_a_bare_name(client):
    assert client.run("test/echo", {"text": "hi"}).wait().output["version"] == "2.0.0"


def test_the_client_refuses_an_unknown_app_naming_the_closest_and_starts_nothing(client):
    with pytest.raises(InvalidRequest, match=r"no app 'test/ecko'; did you mean test/echo\?") as raised:
        client.run("test/ecko", {"text": "hi"})
    assert raised.value.field == "app"
    assert client.runs() == []


def test_the_widget_selects_the_newest_version_and_keeps_the_prefilled_input(client):
    widget = InferenceWidget(client, mode="app", app="test/echo", input={"text": "kept"})
    assert widget.app == "test/echo@2.0.0"
    assert widget.input_values == {"text": "kept"}
    assert widget.app in [entry["id"] for entry in widget.apps]


def test_the_widget_offers_an_older_version_only_when_it_is_asked_for(client):
    assert "test/echo@1.0.0" not in [entry["id"] for entry in InferenceWidget(client).apps]
    widget = InferenceWidget(client, mode="app", app="test/echo@1.0.0")
    assert widget.app == "test/echo@1.0.0"
    assert {"test/echo@1.0.0", "test/echo@2.0.0"} <= {entry["id"] for entry in widget.apps}


def test_the_widget_refuses_an_unknown_app_naming_the_closest(client):
    with pytest.raises(InvalidRequest, match="did you mean test/echo"):
        InferenceWidget(client, mode="app", app="test/ech")
