from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
from PIL import Image

from ..apps import gate, started
from .helpers import status_names, wait_for_status

SPEC_TASK_FIELDS = {"id", "status", "input", "output", "error", "session_id", "created_at"}


def test_run_waits_for_the_terminal_task_by_default(api):
    task = api.post("/run", json={"app": "test/echo", "input": {"text": "hi"}}).json()
    assert SPEC_TASK_FIELDS <= task.keys()
    assert task["status"] == 9
    assert task["output"]["text"] == "hi"
    assert task["error"] is None
    assert status_names([e["status"] for e in task["timeline"]]) == [
        "Received",
        "Queued",
        "Scheduled",
        "Preparing",
        "Serving",
        "Setting Up",
        "Running",
        "Completed",
    ]


def test_wait_false_answers_at_once_and_the_task_goes_on(api):
    task = api.post("/run?wait=false", json={"app": "test/gate", "input": {"gate": "answers-at-once"}}).json()
    assert task["status"] in (1, 2, 3, 4, 5, 6, 7)
    wait_for_status(api, task["id"], "Running")
    gate("answers-at-once").set()
    done = wait_for_status(api, task["id"], "Completed")
    assert done["output"] == {"gate": "answers-at-once", "opened": True}


def test_apps_run_speaks_the_hosted_dialect_and_waits_only_when_asked(api):
    answer = api.post("/apps/run?wait=true", json={"app": "test/echo", "input": {"text": "alias"}})
    assert answer.headers["Inference-Dialect"] == "hosted"
    task = answer.json()["data"]
    assert task["status"] == 10 and task["output"]["text"] == "alias"  # 10 Completed in the 2026 numbering
    assert api.get(f"/tasks/{task['id']}").json()["data"]["status"] == 10


def test_get_and_light_status_show_the_same_task(api):
    created = api.post("/run", json={"app": "test/echo", "input": {"text": "x"}}).json()
    got = api.get(f"/tasks/{created['id']}").json()
    assert got == created
    light = api.get(f"/tasks/{created['id']}/status").json()
    assert light == {"id": created["id"], "status": 9, "updated_at": created["updated_at"]}


def test_no_version_means_the_latest_and_a_version_picks_that_one(api):
    latest = api.post("/run", json={"app": "test/echo", "input": {"text": "v"}}).json()
    pinned = api.post("/run", json={"app": "test/echo@1.0.0", "input": {"text": "v"}}).json()
    assert (latest["app"], latest["output"]["version"]) == ("test/echo@2.0.0", "2.0.0")
    assert (pinned["app"], pinned["output"]["version"]) == ("test/echo@1.0.0", "1.0.0")


def test_setup_parameters_reach_the_apps_setup(api):
    task = api.post("/run", json={"app": "test/echo", "input": {"text": "s"}, "setup": {"model": "schnell"}}).json()
    assert task["output"]["setup"] == {"model": "schnell"}


def test_a_warm_instance_skips_serving(api):
    first = api.post("/run", json={"app": "test/echo", "input": {"text": "a"}, "setup": {"k": 1}}).json()
    second = api.post("/run", json={"app": "test/echo", "input": {"text": "b"}, "setup": {"k": 1}}).json()
    other_setup = api.post("/run", json={"app": "test/echo", "input": {"text": "c"}, "setup": {"k": 2}}).json()
    assert "Serving" in status_names([e["status"] for e in first["timeline"]])
    assert "Serving" not in status_names([e["status"] for e in second["timeline"]])
    assert "Serving" in status_names([e["status"] for e in other_setup["timeline"]])


def test_app_failure_is_a_failed_task_with_the_apps_message(api):
    task = api.post("/run", json={"app": "demo/fail", "input": {"message": "the disk is on fire"}}).json()
    assert task["status"] == 10
    assert "the disk is on fire" in task["error"]
    assert task["output"] is None


def test_output_that_breaks_the_apps_own_schema_fails_the_task_clearly(api):
    task = api.post("/run", json={"app": "test/bad-output", "input": {}}).json()
    assert task["status"] == 10
    assert "does not fit its output schema" in task["error"] and "count" in task["error"]


def test_output_files_are_stored_and_served_with_auth(api, server):
    task = api.post("/run", json={"app": "demo/picture", "input": {"prompt": "A sunset over mountains"}}).json()
    assert status_names([e["status"] for e in task["timeline"]])[-2:] == ["Uploading", "Completed"]
    image = task["output"]["image"]
    assert image["content_type"] == "image/png" and image["filename"].endswith(".png")
    assert image["uri"].startswith(f"{server.url}/files/{task['id']}/")
    assert httpx.get(image["uri"]).status_code == 401
    fetched = api.get(image["uri"])
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    assert len(fetched.content) == image["size"]
    assert Image.open(io.BytesIO(fetched.content)).size == (512, 320)


def test_files_with_clashing_or_hostile_names_get_safe_distinct_names(api):
    task = api.post("/run", json={"app": "test/files", "input": {"text": "main"}}).json()
    output = task["output"]
    names = [output["main"]["filename"]] + [f["filename"] for f in output["more"]]
    assert len(set(names)) == 3 and all("/" not in n and ".." not in n for n in names)
    assert api.get(output["main"]["uri"]).content == b"main"
    assert api.get(output["more"][0]["uri"]).content == b"one"
    assert api.get(f"/files/{task['id']}/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_task_list_is_newest_first_and_paged(api):
    ids = [api.post("/run", json={"app": "test/echo", "input": {"text": str(i)}}).json()["id"] for i in range(5)]
    first = api.get("/tasks", params={"limit": 2}).json()
    second = api.get("/tasks", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/tasks", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    seen = [t["id"] for page in (first, second, third) for t in page["tasks"]]
    assert seen == ids[::-1]
    assert third["next_cursor"] is None


def test_task_list_filters_by_app(api):
    api.post("/run", json={"app": "test/echo", "input": {"text": "e"}})
    picture = api.post("/run", json={"app": "demo/picture", "input": {"prompt": "p"}}).json()
    listed = api.get("/tasks", params={"app": "demo/picture"}).json()["tasks"]
    assert [t["id"] for t in listed] == [picture["id"]]


def test_apps_lists_every_app_with_schemas_and_a_description(api):
    apps = {a["id"]: a for a in api.get("/apps").json()["apps"]}
    assert {"demo/picture@1.0.0", "demo/sql@1.0.0", "test/echo@1.0.0", "test/echo@2.0.0"} <= apps.keys()
    picture = apps["demo/picture@1.0.0"]
    assert picture["description"] and picture["latest"] is True
    assert "prompt" in picture["input_schema"]["properties"]
    assert apps["test/echo@1.0.0"]["latest"] is False


def test_the_scratch_folder_of_a_task_is_removed_when_it_ends(api, server):
    task = api.post("/run", json={"app": "test/echo", "input": {"text": "tidy"}}).json()
    assert task["status"] == 9
    scratch = Path(task["output"]["scratch_file"])
    assert scratch.parent == server.data_dir / "work" / task["id"]
    deadline = time.monotonic() + 2  # cleanup follows the terminal status
    while scratch.parent.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not scratch.parent.exists()


def test_a_task_that_never_asks_for_its_scratch_folder_has_none(api, server):
    name = "no-scratch"
    task = api.post("/run", params={"wait": "false"}, json={"app": "test/gate", "input": {"gate": name}}).json()
    assert started(name).wait(10)
    assert not (server.data_dir / "work" / task["id"]).exists()  # while it runs: nothing made for it
    gate(name).set()
    assert wait_for_status(api, task["id"], "Completed")["status"] == 9


def test_an_output_with_nan_reads_back_as_null(api, server):
    from pydantic import BaseModel

    from inference_nb.server import App

    class NotANumber(App):
        name = "test/nan"
        description = "Returns NaN, as pandas does for a missing value."

        class Input(BaseModel):
            pass

        class Output(BaseModel):
            mean: float
            values: list[float]

        def run(self, input):
            return self.Output(mean=float("nan"), values=[1.0, float("inf")])

    server.register(NotANumber)
    task = api.post("/run", json={"app": "test/nan", "input": {}}).json()
    assert task["status"] == 9 and task["output"] == {"mean": None, "values": [1.0, None]}
    assert api.get(f"/tasks/{task['id']}").json()["output"] == task["output"]


def _notebook_cell_app(field: str):
    """What a notebook cell defining an app makes each time it runs: new classes, the same id."""
    from pydantic import BaseModel, create_model

    from inference_nb.server import App

    output = create_model("Output", **{field: (str, ...)})

    class Cell(App):
        name = "test/cell"
        description = "Defined in a notebook cell that is run again."

        class Input(BaseModel):
            text: str

        Output = output

        def setup(self, setup) -> None:
            self.field = field

        def run(self, input):
            return output(**{self.field: input.text})

    return Cell


def test_an_app_registered_again_under_its_id_replaces_the_old_one(api, server):
    server.register(_notebook_cell_app("first"))
    session = api.post("/run", json={"app": "test/cell", "input": {"text": "s"}, "session": "new"}).json()
    assert api.post("/run", json={"app": "test/cell", "input": {"text": "a"}}).json()["output"] == {"first": "a"}
    server.register(_notebook_cell_app("second"))  # the cell run again; a warm instance of the old class is idle
    task = api.post("/run", json={"app": "test/cell", "input": {"text": "b"}}).json()
    assert (task["status"], task["error"], task["output"]) == (9, None, {"second": "b"})
    assert "Serving" in status_names([e["status"] for e in task["timeline"]])  # a new instance, set up
    listed = {app["id"]: app for app in api.get("/apps").json()["apps"]}
    assert list(listed["test/cell@1.0.0"]["output_schema"]["properties"]) == ["second"]
    # A session started before keeps the class it started with, to its end.
    kept = api.post("/run", json={"app": "test/cell", "input": {"text": "k"}, "session": session["session_id"]})
    assert kept.json()["output"] == {"first": "k"}
