"""The built-in apps, called directly as the server would call them."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from PIL import Image
from pydantic import ValidationError

from inference_nb.server.apps.base import RunContext, TaskCancelled
from inference_nb.server.apps.builtin import BUILTIN_APPS, ChartApp, CounterApp, FailApp, PictureApp, SleepApp, SqlApp
from inference_nb.server.apps.builtin.chart import nice_ticks
from inference_nb.server.apps.builtin.sql import DATA_DIR
from inference_nb.server.apps.registry import AppRegistry


@pytest.fixture
def ctx(tmp_path: Path) -> RunContext:
    return RunContext(task_id="t1", session_id=None, work_dir=tmp_path)


def draw_picture(ctx: RunContext, style: str = "flat", **fields) -> PictureApp.Output:
    app = PictureApp()
    app.setup(PictureApp.Setup(style=style), ctx)
    return app.run(PictureApp.Input(**fields), ctx)


def png_bytes(file) -> bytes:
    assert file.content_type == "image/png"
    assert file.size == len(file.pending_data)
    return file.pending_data


# demo/picture


def test_picture_is_a_png_of_the_requested_size(ctx):
    out = draw_picture(ctx, prompt="A sunset over mountains", width=300, height=200)
    image = Image.open(io.BytesIO(png_bytes(out.image)))
    assert image.format == "PNG"
    assert image.size == (300, 200) == (out.width, out.height)
    assert out.palette and all(len(c) == 7 and c.startswith("#") for c in out.palette)


def test_picture_is_repeatable_and_depends_on_prompt_and_seed(ctx):
    first = png_bytes(draw_picture(ctx, prompt="An ocean at night", seed=7).image)
    again = png_bytes(draw_picture(ctx, prompt="An ocean at night", seed=7).image)
    other_seed = png_bytes(draw_picture(ctx, prompt="An ocean at night", seed=8).image)
    other_prompt = png_bytes(draw_picture(ctx, prompt="A forest in spring", seed=7).image)
    assert first == again
    assert first != other_seed
    assert first != other_prompt


def test_picture_keywords_pick_the_palette(ctx):
    sunset = draw_picture(ctx, prompt="A sunset over mountains").palette
    night = draw_picture(ctx, prompt="Stars at midnight").palette
    assert sunset != night


def test_picture_setup_style_changes_the_rendering(ctx):
    flat = png_bytes(draw_picture(ctx, style="flat", prompt="Waves on a beach").image)
    soft = png_bytes(draw_picture(ctx, style="soft", prompt="Waves on a beach").image)
    assert flat != soft


def test_picture_setup_ignores_options_of_hosted_apps():
    assert PictureApp.Setup.model_validate({"model": "schnell"}).style == "flat"


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [({"prompt": ""}, "prompt"), ({"prompt": "x", "width": 5000}, "width"), ({}, "prompt")],
)
def test_picture_refuses_bad_input(fields, bad_field):
    with pytest.raises(ValidationError) as caught:
        PictureApp.Input(**fields)
    assert caught.value.errors()[0]["loc"] == (bad_field,)


def test_picture_caption_survives_a_very_long_prompt(ctx):
    out = draw_picture(ctx, prompt="mountains " * 199, width=64, height=64)
    assert Image.open(io.BytesIO(png_bytes(out.image))).size == (64, 64)


# demo/chart


@pytest.mark.parametrize("kind", ["line", "bar"])
def test_chart_draws_the_data(ctx, kind):
    out = ChartApp().run(ChartApp.Input(y=[3, -1.5, 8, 2], kind=kind, title="Sales", width=400, height=300), ctx)
    image = Image.open(io.BytesIO(png_bytes(out.image)))
    assert image.size == (400, 300)
    assert (out.points, out.y_min, out.y_max) == (4, -1.5, 8)
    # Something besides white background and grey grid was drawn.
    assert len(image.convert("RGB").getcolors(maxcolors=100_000)) > 10


def test_chart_handles_labels_x_positions_and_flat_data(ctx):
    bars = ChartApp.Input(y=[1, 1, 1], labels=["Jan", "February is long", "Mar"], kind="bar")
    assert ChartApp().run(bars, ctx).points == 3
    line = ChartApp.Input(y=list(range(10_000)), x=[i / 7 for i in range(10_000)])
    assert ChartApp().run(line, ctx).y_max == 9999


@pytest.mark.parametrize(("low", "high"), [(-1.5, 8.0), (0.0, 99.99), (3.0, 3.0), (-1e-7, 3e-7)])
def test_chart_ticks_are_round_and_cover_the_data(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    assert 3 <= len(ticks) <= 8
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))


@pytest.mark.parametrize("field", ["x", "labels"])
def test_chart_refuses_a_length_mismatch_naming_the_field(field):
    values = [1.0, 2.0] if field == "x" else ["a", "b"]
    with pytest.raises(ValidationError) as caught:
        ChartApp.Input(y=[1, 2, 3], **{field: values})
    error = caught.value.errors()[0]
    assert error["loc"] == (field,)
    assert f"{field} has 2 values but y has 3" in error["msg"]


@pytest.mark.parametrize("y", [[], [1.0, float("nan")], [float("inf")]])
def test_chart_refuses_empty_or_non_finite_values(y):
    with pytest.raises(ValidationError, match="y"):
        ChartApp.Input(y=y)


# demo/sql


@pytest.fixture
def sql(ctx) -> SqlApp:
    app = SqlApp()
    # Set up on another thread, as a server's worker pool may do.
    worker = threading.Thread(target=app.setup, args=(SqlApp.Setup(), ctx))
    worker.start()
    worker.join()
    yield app
    app.unload()


def query(app: SqlApp, ctx: RunContext, sql_text: str, **fields) -> SqlApp.Output:
    return app.run(SqlApp.Input(query=sql_text, **fields), ctx)


def inventory_rows() -> list[dict[str, str]]:
    with open(DATA_DIR / "inventory.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_sql_select_matches_the_csv(sql, ctx):
    expected: dict[str, int] = defaultdict(int)
    for row in inventory_rows():
        expected[row["category"]] += int(row["qty"])
    out = query(sql, ctx, "SELECT category, SUM(qty) AS total FROM inventory GROUP BY category ORDER BY category")
    assert out.columns == ["category", "total"]
    assert {row["category"]: row["total"] for row in out.rows} == expected
    assert out.row_count == len(expected)
    assert out.truncated is False


def test_sql_columns_are_typed(sql, ctx):
    first = inventory_rows()[0]
    quoted_name = "'" + first["name"].replace("'", "''") + "'"
    out = query(sql, ctx, f"SELECT * FROM inventory WHERE name = {quoted_name}")
    row = out.rows[0]
    assert row["qty"] == int(first["qty"]) and isinstance(row["qty"], int)
    assert row["price"] == pytest.approx(float(first["price"]))


def test_sql_truncates_at_max_rows(sql, ctx):
    out = query(sql, ctx, "SELECT name FROM inventory", max_rows=5)
    assert out.row_count == 5 and len(out.rows) == 5
    assert out.truncated is True
    assert query(sql, ctx, "SELECT COUNT(*) AS n FROM inventory").rows == [{"n": len(inventory_rows())}]


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM inventory",
        "DROP TABLE inventory",
        "ATTACH DATABASE ':memory:' AS other",
        "PRAGMA writable_schema = 1",
        "WITH doomed AS (SELECT name FROM inventory) DELETE FROM inventory WHERE name IN doomed",
        "WITH x AS (SELECT 1) INSERT INTO inventory (name) SELECT * FROM x",
        "SELECT 1; DROP TABLE inventory",
        "  -- a comment first\n UPDATE inventory SET qty = 0",
    ],
)
def test_sql_refuses_anything_but_reading(sql, ctx, statement):
    before = query(sql, ctx, "SELECT COUNT(*) AS n, SUM(qty) AS q FROM inventory").rows
    with pytest.raises(ValueError, match="SELECT|one statement") as caught:
        query(sql, ctx, statement)
    assert "not authorized" not in str(caught.value)
    assert query(sql, ctx, "SELECT COUNT(*) AS n, SUM(qty) AS q FROM inventory").rows == before


def test_sql_write_inside_with_is_named_in_the_error(sql, ctx):
    with pytest.raises(ValueError, match="read-only, but it would DELETE from inventory"):
        query(sql, ctx, "WITH x AS (SELECT 1) DELETE FROM inventory")


def test_a_pragma_table_function_is_refused_as_a_pragma_and_the_columns_are_shown(sql, ctx):
    with pytest.raises(ValueError) as caught:
        query(sql, ctx, "SELECT * FROM pragma_table_info('inventory')")
    message = str(caught.value)
    assert "would run PRAGMA table_info" in message and "sqlite_master" not in message
    assert "inventory(name, category, qty, price, warehouse)" in message


def test_sql_error_shows_sqlite_message_and_tables(sql, ctx):
    with pytest.raises(ValueError, match="no such table: products") as caught:
        query(sql, ctx, "SELECT * FROM products")
    assert "inventory(name, category, qty, price, warehouse)" in str(caught.value)
    assert "sales(" in str(caught.value)


def test_sql_queries_an_uploaded_csv_for_that_call_only(sql, ctx):
    upload = "city;people\nOslo;709000\nBergen;291000\nTromsø;\n"
    out = query(sql, ctx, "SELECT city, people FROM uploaded WHERE people > 300000", csv=upload)
    assert out.rows == [{"city": "Oslo", "people": 709000}]
    assert query(sql, ctx, "SELECT COUNT(people) AS n FROM uploaded", csv=upload).rows == [{"n": 2}]
    with pytest.raises(ValueError, match="no such table: uploaded"):
        query(sql, ctx, "SELECT * FROM uploaded")


def test_sql_truncated_upload_is_still_dropped(sql, ctx):
    upload = "n\n" + "\n".join(str(i) for i in range(50))
    assert query(sql, ctx, "SELECT n FROM uploaded", csv=upload, max_rows=3).truncated is True
    with pytest.raises(ValueError, match="no such table: uploaded"):
        query(sql, ctx, "SELECT * FROM uploaded")


def test_sql_refuses_a_ragged_csv(sql, ctx):
    with pytest.raises(ValueError, match="data row 2 has 3 fields but the header has 2"):
        query(sql, ctx, "SELECT * FROM uploaded", csv="a,b\n1,2\n3,4,5\n")


def test_sql_stops_a_long_query_when_cancelled(sql, ctx):
    outcome: list[BaseException] = []

    def run_forever() -> None:
        try:
            query(sql, ctx, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT MAX(i) FROM n")
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome.append(error)

    worker = threading.Thread(target=run_forever, daemon=True)
    worker.start()
    time.sleep(0.2)  # not an assertion: lets the query start, so the cancel interrupts it
    assert worker.is_alive(), "the query should still be running"
    ctx.cancel()
    worker.join(timeout=10)  # the query never ends by itself: only the cancel can stop it
    assert not worker.is_alive()
    assert isinstance(outcome[0], TaskCancelled)


def test_sql_empty_dataset_has_no_tables(ctx):
    app = SqlApp()
    app.setup(SqlApp.Setup(dataset="empty"), ctx)
    with pytest.raises(ValueError, match="Tables: none"):
        query(app, ctx, "SELECT * FROM inventory")


# demo/counter


def test_counter_keeps_state_across_calls_and_resets(tmp_path):
    ctx = RunContext(task_id="t1", session_id="sess_1", work_dir=tmp_path)
    app = CounterApp()
    app.setup(None, ctx)
    assert app.run(CounterApp.Input(action="init"), ctx).count == 0
    app.run(CounterApp.Input(action="process", note="first"), ctx)
    app.run(CounterApp.Input(action="increment", amount=5, note="second"), ctx)
    out = app.run(CounterApp.Input(action="get"), ctx)
    assert (out.count, out.calls, out.notes) == (6, 4, ["first", "second"])
    assert (out.action, out.session_id) == ("get", "sess_1")
    reset = app.run(CounterApp.Input(action="reset"), ctx)
    assert (reset.count, reset.calls, reset.notes) == (0, 5, [])


def test_counter_instances_do_not_share_state(ctx):
    first, second = CounterApp(), CounterApp()
    first.setup(None, ctx)
    second.setup(None, ctx)
    first.run(CounterApp.Input(amount=3), ctx)
    assert second.run(CounterApp.Input(), ctx).count == 1


# demo/sleep


def test_sleep_waits_the_time_asked(ctx):
    out = asyncio.run(SleepApp().run(SleepApp.Input(seconds=0.3, steps=3, message="hi"), ctx))
    assert 0.3 <= out.slept < 1.0
    assert (out.steps, out.message) == (3, "hi")


def test_sleep_stops_promptly_when_its_task_is_cancelled(ctx):
    async def cancel_after_a_moment() -> float:
        task = asyncio.create_task(SleepApp().run(SleepApp.Input(seconds=60, steps=1), ctx))
        await asyncio.sleep(0.1)
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - cancelled_at

    assert asyncio.run(cancel_after_a_moment()) < 10  # asked for 60 s: stopped, not finished


def test_sleep_stops_when_the_context_is_cancelled(ctx):
    threading.Timer(0.1, ctx.cancel).start()
    started = time.monotonic()
    with pytest.raises(TaskCancelled):
        asyncio.run(SleepApp().run(SleepApp.Input(seconds=60, steps=1), ctx))
    assert time.monotonic() - started < 10  # asked for 60 s: stopped by the cancel, not finished


# demo/fail


def test_fail_raises_the_exact_message(ctx):
    with pytest.raises(RuntimeError) as caught:
        FailApp().run(FailApp.Input(message="boom, as asked"), ctx)
    assert str(caught.value) == "boom, as asked"


def test_fail_never_succeeds_with_the_message(ctx):
    out = FailApp().run(FailApp.Input(when="never", message="fine"), ctx)
    assert out.model_dump() == {"ok": True, "message": "fine"}


def test_fail_in_setup_is_driven_by_the_setup_model(ctx):
    FailApp().setup(FailApp.Setup(), ctx)
    with pytest.raises(RuntimeError, match="^setup broke$"):
        FailApp().setup(FailApp.Setup(fail_in_setup=True, message="setup broke"), ctx)


def test_fail_waits_but_honours_cancel(ctx):
    threading.Timer(0.1, ctx.cancel).start()
    started = time.monotonic()
    with pytest.raises(TaskCancelled):
        FailApp().run(FailApp.Input(after_seconds=30), ctx)
    assert time.monotonic() - started < 10  # asked to wait 30 s: stopped by the cancel


# all of them


def test_registry_describes_every_builtin_app():
    described = AppRegistry(BUILTIN_APPS).describe()
    assert {d["id"] for d in described} == {
        f"demo/{name}@1.0.0" for name in ("picture", "chart", "sql", "counter", "sleep", "fail")
    }
    for app in described:
        assert app["description"]
        assert app["input_schema"]["type"] == "object"
        assert app["output_schema"]["properties"]
        for name, field in app["input_schema"]["properties"].items():
            assert field.get("description"), f"{app['id']} input {name} has no description"
        for name, field in app["output_schema"]["properties"].items():
            if field.get("$ref") == "#/$defs/File":
                file_fields = app["output_schema"]["$defs"]["File"]["properties"]
                assert {"uri", "content_type", "size", "filename"} <= set(file_fields), name
    with_files = {d["id"] for d in described if "File" in d["output_schema"].get("$defs", {})}
    assert with_files == {"demo/picture@1.0.0", "demo/chart@1.0.0"}


def test_the_app_list_is_worked_out_once_yet_follows_each_registration():
    registry = AppRegistry(BUILTIN_APPS)
    first = registry.describe()
    assert registry.describe() == first

    class Picture(PictureApp):
        description = "a picture, described again"

    registry.register(Picture)  # the same id: it replaces the built-in one
    Picture.description = "changed, then registered again"
    registry.register(Picture)
    (entry,) = [app for app in registry.describe() if app["id"] == "demo/picture@1.0.0"]
    assert entry["description"] == "changed, then registered again"
    assert list(entry)[:4] == ["id", "name", "version", "latest"]  # the order GET /apps always had
