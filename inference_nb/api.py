"""`Client`: what a notebook user calls. It returns Runs at once; the controller follows them.

client = inference_nb.Client()                 # the embedded server, no key
run = client.run("demo/picture", {"prompt": "A sunset"})
run.wait().images[0]
rows = client.ask("What does our inventory look like?", schema=list[Item]).wait().result

The facade sits on top of the layers (docs/ARCHITECTURE.md): `BaseClient` does the work,
and this class adds the two surfaces built on it, `map` and `widget`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .client.profile import hosted_runs, hosted_tasks
from .kernel.base_client import DEFAULT_WAIT, BaseClient
from .kernel.embedded_server import embedded_server
from .kernel.sessions import AppSession

if TYPE_CHECKING:
    import pandas

    from .widget.inference_widget import InferenceWidget


class Client(BaseClient):
    __doc__ = BaseClient.__doc__

    def map(
        self,
        app_or_question: str,
        inputs: Any,
        *,
        schema: Any = None,
        cluster: str | None = None,
        setup: dict[str, Any] | None = None,
        function: str | None = None,
        variant: str | None = None,
        concurrency: int = 8,
        retry_failed: bool = False,
        timeout: float | None = None,
        progress: bool = True,
        kind: Literal["task", "run"] | None = None,
    ) -> pandas.DataFrame:
        """One task or run per input row, `concurrency` at a time, with one live progress display.

        Args:
            app_or_question: an app id (each row is a task's input), or a question with `{column}`
                placeholders (each row is a run).
            inputs: a list of dicts or a DataFrame.
            schema: the runs' result schema (questions only).
            cluster: the runs' cluster (questions only).
            setup: the tasks' setup parameters (apps only).
            function: the app's function each task runs (apps only, hosted dialect; default "run").
            variant: the app's variant each task runs (apps only; default: its default).
            concurrency: rows in flight at once.
            retry_failed: give each row that failed before one new attempt.
            timeout: seconds for the whole map; what still runs then is cancelled.
            progress: show the live progress line.
            kind: "task" or "run"; None guesses from `app_or_question`.

        Returns:
            The input rows (index and columns kept) with `status`, `error`, `run_id` and the results
            joined on. Rows that already ran are found again, not resubmitted. A row whose submit
            kept failing is a failed row saying why; after a refused key or an unreachable server
            the rows not sent have status "not sent", and a `MapStopped` warning says why.

        Raises:
            InvalidRequest: a bad argument or row, found before anything is sent.
            DeadlineExceeded: `timeout` passed (the rows so far are its `.partial`).
            MapInterrupted: the kernel was interrupted (a KeyboardInterrupt; the rows so far are its `.partial`).
        """
        from .mapping import map_rows  # pandas and the scheduler only when used

        return map_rows(self, app_or_question, inputs, schema=schema, cluster=cluster, setup=setup,
                        function=function, variant=variant, concurrency=concurrency, retry_failed=retry_failed,
                        timeout=timeout, progress=progress, kind=kind)  # fmt: skip

    def widget(self, **prefill: Any) -> InferenceWidget:
        """The widget, sending its runs through this client.

        Args:
            **prefill: any form field: `message=`, `schema=`, `mode="app"`, `app=`, `input=`,
                `setup=`, `session=`, `cluster=`.

        Raises:
            InvalidRequest: `schema` is neither a JSON Schema dict nor a type.
            StatusError, TransportError: the server's app list could not be read.
        """
        from .widget.inference_widget import InferenceWidget  # anywidget only when used

        return InferenceWidget(self, **prefill)


__all__ = ["DEFAULT_WAIT", "AppSession", "Client", "embedded_server", "hosted_runs", "hosted_tasks"]
