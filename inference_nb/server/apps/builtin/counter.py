"""demo/counter: state that lives on one app instance, i.e. across the calls of a session."""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import BaseModel, Field

from ..base import App, RunContext


class CounterApp(App):
    name = "demo/counter"
    version = "1.0.0"
    description = (
        "A counter that remembers its count and notes between calls. Start a session "
        '(session "new"), then send more calls to the same session to see the state persist.'
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
        with self._lock:
            self._calls += 1
            if input.action in ("init", "reset"):
                self._count = 0
                self._notes = []
            elif input.action in ("increment", "process"):
                self._count += input.amount
            if input.note is not None:
                self._notes.append(input.note)
            return self.Output(
                count=self._count,
                calls=self._calls,
                notes=list(self._notes),
                action=input.action,
                session_id=ctx.session_id,
            )
