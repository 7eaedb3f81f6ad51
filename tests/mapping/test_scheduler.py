"""`Mapper` over real HTTP against the embedded server: what a map holds per row while it runs."""

from __future__ import annotations

import gc
import uuid
import weakref

from inference_nb.kernel.run import Run
from inference_nb.mapping import Ledger, MapOptions, rows_of
from inference_nb.mapping.ended import Ended
from inference_nb.mapping.join import joined
from inference_nb.mapping.rows import TaskRows
from inference_nb.mapping.scheduler import Mapper

from ..apps import gate, started

WAIT = 30


def test_only_the_rows_in_flight_hold_a_run_and_an_ended_row_lets_go_of_its_run(client, ledger_path):
    gates = [f"held-{uuid.uuid4().hex[:8]}-{i}" for i in range(4)]
    work = TaskRows(client, "test/gate", None)
    frame, rows, shared = rows_of(work, [{"gate": name} for name in gates])
    profile = client.profile("tasks")
    book = Ledger(ledger_path).book(server=profile.base_url, key=profile.key, kind="task", target="test/gate",
                                    contents=[row.digest for row in rows])  # fmt: skip
    mapper = Mapper(work, rows, MapOptions.of({}), book)
    all_rows = client.controller.submit(mapper._all(2))

    assert started(gates[0]).wait(WAIT) and started(gates[1]).wait(WAIT)
    assert [type(run) for run in mapper.runs] == [Run, Run, type(None), type(None)]  # the others wait their turn
    first = weakref.ref(mapper.runs[0])
    gate(gates[0]).set()
    assert started(gates[2]).wait(WAIT)  # sent by the worker that ended row 0, so after row 0's record

    gc.collect()
    assert first() is None
    ended = mapper.runs[0]
    assert isinstance(ended, Ended) and ended.output == {"gate": gates[0], "opened": True}
    assert mapper.runs[3] is None

    for name in gates[1:]:
        gate(name).set()
    all_rows.result(WAIT)
    book.flush()
    assert all(isinstance(run, Ended) for run in mapper.runs)
    table = joined(frame, mapper, shared, typed=False, typed_value=work.typed)
    assert table["status"].tolist() == ["succeeded"] * 4
    assert table["opened"].tolist() == [True] * 4
    assert table["run_id"].tolist() == [run.id for run in mapper.runs]
    assert table["attempts"].tolist() == [1] * 4
    assert (table["queued_s"] >= 0).all() and (table["run_s"] >= 0).all()
    assert not table["from_ledger"].any()
    recorded = book.entries()
    assert {entry.run_id for entry in recorded.values()} == set(table["run_id"])
    assert {entry.state for entry in recorded.values()} == {"succeeded"}
