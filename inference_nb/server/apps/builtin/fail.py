"""demo/fail: fails on request, to see how errors look in setup and in run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..base import App, RunContext, TaskCancelled


class FailApp(App):
    name = "demo/fail"
    version = "1.0.0"
    description = (
        "Fails on purpose with your message, after an optional delay. "
        'To fail in setup instead, send setup {"fail_in_setup": true}.'
    )

    class Setup(BaseModel):
        fail_in_setup: bool = Field(default=False, description="Fail while the app is set up, before any run.")
        message: str = Field(
            default="This app fails in setup on purpose.", max_length=1000, description="The setup error's message."
        )

    class Input(BaseModel):
        message: str = Field(default="This app fails on purpose.", max_length=1000, description="The error message.")
        when: Literal["run", "setup", "never"] = Field(
            default="run",
            description="'run': fail in this run; 'setup': only setup may fail (setup never sees the input, "
            "so this needs setup {\"fail_in_setup\": true}); 'never': succeed.",
        )
        after_seconds: float = Field(default=0.0, ge=0, le=60, description="Wait this long before answering.")

    class Output(BaseModel):
        ok: bool
        message: str

    def setup(self, setup: Setup | None, ctx: RunContext) -> None:
        options = setup or self.Setup()
        if options.fail_in_setup:
            raise RuntimeError(options.message)

    def run(self, input: Input, ctx: RunContext) -> Output:
        if ctx.wait_cancelled(input.after_seconds):
            raise TaskCancelled(f"task {ctx.task_id} was cancelled")
        if input.when == "run":
            raise RuntimeError(input.message)
        if input.when == "setup":
            # Reaching run means setup succeeded; say why rather than pass silently.
            raise RuntimeError(
                f'{input.message} (asked to fail in setup, but setup ran without {{"fail_in_setup": true}})'
            )
        return self.Output(ok=True, message=input.message)
