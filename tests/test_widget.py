"""The server badge, kernel side: traits and the ping/pong handler, no browser."""

import json

import pytest
import traitlets

from inference_nb.widget import ServerBadge, _built

APPS = ["demo/picture@1.0.0", "demo/text@2.1.0"]


@pytest.fixture
def sent(monkeypatch):
    """Messages the widget sends to the front end, in order."""
    messages = []
    monkeypatch.setattr(ServerBadge, "send", lambda self, content, buffers=None: messages.append(content))
    return messages


def ping(widget, content):
    """Deliver a custom message as the front end's `model.send` would."""
    widget._handle_custom_msg(content, [])


def test_traits_hold_the_given_values():
    w = ServerBadge(server_url="http://127.0.0.1:43121", app_count=3, status="ready")
    assert (w.server_url, w.app_count, w.status) == ("http://127.0.0.1:43121", 3, "ready")


def test_defaults_are_empty():
    w = ServerBadge()
    assert (w.server_url, w.app_count, w.status) == ("", 0, "")


def test_ping_is_answered_with_pong_and_app_ids(sent):
    w = ServerBadge(list_apps=lambda: iter(APPS))
    ping(w, {"type": "ping", "id": "abc-1"})
    assert sent == [{"type": "pong", "id": "abc-1", "apps": APPS}]


def test_ping_without_list_apps_answers_no_apps(sent):
    ping(ServerBadge(), {"type": "ping", "id": "abc-2"})
    assert sent == [{"type": "pong", "id": "abc-2", "apps": []}]


@pytest.mark.parametrize("content", [{"type": "launch", "id": "abc-3"}, {"id": "abc-3"}, "ping"])
def test_unknown_message_gets_an_error_tagged_with_its_id(sent, content):
    ping(ServerBadge(list_apps=lambda: APPS), content)
    [reply] = sent
    assert reply["type"] == "error"
    assert reply["id"] == (content["id"] if isinstance(content, dict) else None)


def test_failing_list_apps_answers_error_without_its_text(sent, caplog):
    def broken():
        raise RuntimeError("GET http://127.0.0.1:1/apps?key=hunter2 refused")

    ping(ServerBadge(list_apps=broken), {"type": "ping", "id": "abc-4"})
    [reply] = sent
    assert reply == {"type": "error", "id": "abc-4", "message": "listing apps failed (RuntimeError)"}
    assert "hunter2" in caplog.text  # the kernel log keeps the detail


def test_no_trait_or_reply_holds_a_token_or_the_secret(sent):
    secret = "s3cr3t-bearer-value"
    seen_headers = []

    def list_apps():  # stands in for a client call that authenticates with the secret
        seen_headers.append({"Authorization": f"Bearer {secret}"})
        return ["demo/picture@1.0.0"]

    w = ServerBadge(server_url="http://127.0.0.1:43121", app_count=1, status="ready", list_apps=list_apps)
    ping(w, {"type": "ping", "id": "abc-5"})
    state = w.get_state()
    assert seen_headers, "list_apps was called"
    assert not [name for name in state if "token" in name.lower() or "key" in name.lower()]
    assert secret not in json.dumps([state, sent], default=str)
    assert "list_apps" not in w.trait_names()


@pytest.mark.parametrize(
    "url", ["http://user:s3cret@127.0.0.1:1", "http://127.0.0.1:1/?token=s3cret", "http://127.0.0.1:1/#s3cret"]
)
def test_server_url_refuses_credentials(url):
    with pytest.raises(traitlets.TraitError):
        ServerBadge(server_url=url)


def test_missing_bundle_says_how_to_build_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="npm run build"):
        _built(tmp_path / "widget.js")
