"""demo/sleep: a task that takes as long as asked, for trying progress and cancel."""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel, Field

from ..base import App, RunContext


class SleepApp(App):
    name = "demo/sleep"
    version = "1.0.0"
    description = (
        "Waits for the given number of seconds, in steps (reported as progress), then answers; "
        "stops at once when cancelled."
    )

    class Input(BaseModel):
        seconds: float = Field(default=2.0, ge=0, le=3600, description="How long to wait, in seconds.")
        steps: int = Field(default=10, ge=1, le=1000, description="The wait is split into this many steps.")
        message: str = Field(default="done", max_length=1000, description="Returned unchanged at the end.")

    class Output(BaseModel):
        slept: float = Field(description="Seconds actually waited, as measured.")
        steps: int
        message: str

    async def run(self, input: Input, ctx: RunContext) -> Output:
        started = time.monotonic()
        ctx.progress(0, input.steps, f"waiting {input.seconds:g} s")
        for step in range(1, input.steps + 1):
            # Each step ends at a deadline counted from the start, so steps do not add up drift.
            deadline = started + input.seconds * step / input.steps
            while (remaining := deadline - time.monotonic()) > 0:
                # Short naps notice a cancel through ctx quickly too, not only a cancelled asyncio task.
                await asyncio.sleep(min(remaining, 0.05))
                ctx.raise_if_cancelled()
            ctx.progress(step, input.steps, f"waited {time.monotonic() - started:.1f} s of {input.seconds:g} s")
        return self.Output(slept=time.monotonic() - started, steps=input.steps, message=input.message)
