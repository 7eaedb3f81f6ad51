"""A result with no table shows as text: an answer that is text as the text it is, other data as JSON."""

from __future__ import annotations

from dataclasses import replace

from inference_nb.kernel.run import Run
from inference_nb.widget.run_view import RUN_STEPS, run_view


def answered(run: Run, output) -> Run:
    """The same run, as a server answering `output` would have it (the demo answers data, never words)."""
    return Run(run._backend, replace(run._snapshot, output=output), label=run.label, follow=False)


def test_a_text_answer_is_shown_as_the_text_it_is_and_data_as_json(client):
    run = client.ask("How many hammers are in stock?").wait()
    words = 'Two "claw" hammers\nand one mallet'
    assert run_view(answered(run, words), steps=RUN_STEPS)["text"] == words
    assert run_view(answered(run, {"hammers": 2}), steps=RUN_STEPS)["text"] == '{\n  "hammers": 2\n}'
