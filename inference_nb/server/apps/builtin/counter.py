"""demo/counter: state that lives on one app instance, i.e. across the calls of a session."""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import BaseModel, Field

from ..base import App, RunContext, function


class NoteInput(BaseModel):
    note: str | None = Field(default=None, max_length=1000, description="Text appended to the notes.")


class AmountInput(NoteInput):
    amount: int = Field(default=1, ge=-1_000_000_000, le=1_000_000_000, description="Added to the count.")


class CounterApp(App):
    name = "demo/counter"
    version = "1.0.0"
    description = (
        "A counter that remembers its count and notes between calls. Start a session "
        '(session "new"), then send more calls to the same session to see the state persist. '
        "Its functions init, increment, get and reset do what the action input of run does."
    )

    class Input(BaseModel):
        action: Literal["init", "increment", "process", "get", "reset"] = Field(
            default="increment",
            description="'init' or 'reset': count back to 0 and notes cleared; "
            "'increment' or 'process': add amount; 'get': change nothing.",
        )
        amount: int = Field(
            default=1, ge=-1_000_000_000, le=1_000_000_000, description="Added by increment and process."
        )
        note: str | None = Field(
            default=None, max_length=1000, description="Text appended to the notes kept by the counter."
        )

    class Output(BaseModel):
        count: int = Field(description="The count after this call.")
        calls: int = Field(description="Calls made on this instance so far, this one included.")
        notes: list[str] = Field(description="Notes sent since the last init or reset, oldest first.")
        action: str = Field(description="The action that was applied.")
        session_id: str | None = Field(description="The session this call ran in, if any.")

    def setup(self, setup: object, ctx: RunContext) -> None:
        self._lock = threading.Lock()  # sync runs of one instance may overlap on worker threads
        self._count = 0
        self._calls = 0
        self._notes: list[str] = []

    def run(self, input: Input, ctx: RunContext) -> Output:
        return self._apply(input.action, input.amount, input.note, ctx)

    @function
    def init(self, input: NoteInput, ctx: RunContext) -> Output:
        """Set the count to 0 and clear the notes."""
        return self._apply("init", 0, input.note, ctx)

    @function
    def increment(self, input: AmountInput, ctx: RunContext) -> Output:
        """Add amount (default 1) to the count."""
        return self._apply("increment", input.amount, input.note, ctx)

    @function
    def get(self, input: NoteInput, ctx: RunContext) -> Output:
        """The count and notes, unchanged (a note is still appended)."""
        return self._apply("get", 0, input.note, ctx)

    @function
    def reset(self, input: NoteInput, ctx: RunContext) -> Output:
        """Like init: the count back to 0, the notes cleared."""
        return self._apply("reset", 0, input.note, ctx)

    def _apply(self, action: str, amount: int, note: str | None, ctx: RunContext) -> Output:
        with self._lock:
            self._calls += 1
            if action in ("init", "reset"):
                self._count = 0
                self._notes = []
            elif action in ("increment", "process"):
                self._count += amount
            if note is not None:
                self._notes.append(note)
            return self.Output(
                count=self._count, calls=self._calls, notes=list(self._notes), action=action, session_id=ctx.session_id
            )
