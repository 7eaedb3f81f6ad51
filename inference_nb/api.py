"""`Client`: what a notebook user calls. It returns Runs at once; the controller follows them.

client = inference_nb.Client()                 # the embedded server, no key
run = client.run("demo/picture", {"prompt": "A sunset"})
run.wait().images[0]
rows = client.ask("What does our inventory look like?", schema=list[Item]).wait().result

The facade sits on top of the layers (docs/ARCHITECTURE.md): `BaseClient` does the work,
and this class adds the two surfaces built on it, `map` and `widget`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client.profile import hosted_runs, hosted_tasks
from .kernel.base_client import DEFAULT_WAIT, BaseClient
from .kernel.embedded_server import embedded_server
from .kernel.sessions import AppSession

if TYPE_CHECKING:
    import pandas

    from .mapping.ledger import Ledger
    from .widget.inference_widget import InferenceWidget


class Client(BaseClient):
    __doc__ = BaseClient.__doc__

    def map(self, app_or_question: str, inputs: Any, **options: Any) -> pandas.DataFrame:
        """One task or run per distinct input row, a bounded number at once, with one live progress display.

        Args:
            app_or_question: an app id (each row is a task's input), or a question with `{column}`
                placeholders (each row is a run).
            inputs: a list of dicts or a DataFrame.
            **options: the fields of `inference_nb.MapOptions` (`concurrency`, `retry_failed`, `timeout`,
                `cache`, `fresh`, `ledger`, `schema`, `setup`, `variant`…).

        Returns:
            The input rows (index and columns kept) with `status`, `error`, `run_id`, `attempts`, `queued_s`,
            `run_s`, `from_ledger` and the results joined on. Identical rows run once and share a `run_id`.
            Every map is kept in the run ledger: running the same call again, in this kernel or a new one,
            returns the finished rows and sends only the rest. A row whose values are not JSON fails alone,
            saying which field; a row whose submit kept failing is a failed row saying why; after a refused
            key or an unreachable server the rows not sent have status "not sent", and a `MapStopped`
            warning says why.

        Raises:
            InvalidRequest: a bad argument or option, found before anything is sent.
            DeadlineExceeded: `timeout` passed (the rows so far are its `.partial`).
            MapInterrupted: the kernel was interrupted (a KeyboardInterrupt; the rows so far are its `.partial`).
        """
        from .mapping import MapOptions, map_rows  # pandas and the scheduler only when used

        return map_rows(self, app_or_question, inputs, MapOptions.of(options))

    @property
    def ledger(self) -> Ledger:
        """The run ledger (`$INFERENCE_NB_LEDGER`, else the data dir's): `.maps()` lists every map with its
        progress, `.forget(map_id)` forgets one."""
        from .mapping.ledger import Ledger

        return Ledger()

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
