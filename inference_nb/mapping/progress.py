"""`map`'s live progress: one line of counts, in IPython one display updated in place, elsewhere a `\\r` line."""

from __future__ import annotations

import html
import sys
import time
from collections import Counter
from typing import Any


class Progress:
    """One live line of counts: in IPython one display updated in place, elsewhere a `\\r` line on stderr."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.started = total, time.monotonic()
        self._handle: Any = None
        self._stream: Any = None
        self._width = 0
        if not enabled:
            return
        ipython = sys.modules.get("IPython")  # a shell has imported it already; a script need not pay for it
        if ipython is not None and ipython.get_ipython() is not None:
            from IPython.display import display

            self._handle = display(self._bundle(Counter(queued=total)), raw=True, display_id=True)
        else:
            self._stream = sys.stderr

    def show(self, counts: Counter[str], *, final: bool = False, note: str | None = None) -> None:
        """Redraw with `counts`; `note` says why the map stopped early, if it did."""
        if self._handle is not None:
            self._handle.update(self._bundle(counts, note), raw=True)
        elif self._stream is not None:
            line = self._line(counts, note)
            self._stream.write("\r" + line.ljust(self._width) + ("\n" if final else ""))
            self._stream.flush()
            self._width = len(line)

    def _line(self, counts: Counter[str], note: str | None = None) -> str:
        ended = counts["succeeded"] + counts["failed"] + counts["cancelled"]
        elapsed = time.monotonic() - self.started
        rate = ended / elapsed if elapsed > 0 else 0.0
        parts = [f"{ended}/{self.total} rows", f"{counts['succeeded']} done", f"{counts['failed']} failed"]
        parts += [f"{counts['cancelled']} cancelled"] if counts["cancelled"] else []
        parts += [f"{counts['running']} running"]
        # Once stopped nothing is queued any more: those rows are "not sent", and no ETA is given.
        parts += [f"{counts['not sent']} not sent"] if note else [f"{counts['queued']} queued"]
        parts += [f"{rate:.1f} runs/s"]
        if ended == self.total:
            parts.append(f"took {elapsed:.1f} s")
        elif not note:
            parts.append(f"ETA {(self.total - ended) / rate:.0f} s" if rate else "ETA ?")
        return "map: " + " | ".join(parts) + (f" | stopped: {note}" if note else "")

    def _bundle(self, counts: Counter[str], note: str | None = None) -> dict[str, str]:
        def bar(n: int, colour: str) -> str:
            return f"<div style='width:{100 * n / self.total:.2f}%;background:{colour}'></div>"

        line = self._line(counts, note)
        page = (
            "<div class='inference-nb-map' style='font-family:var(--jp-ui-font-family, sans-serif)'>"
            "<div style='display:flex;width:24em;max-width:100%;height:8px;margin:4px 0;border-radius:4px;"
            "overflow:hidden;background:var(--jp-layout-color3, #ddd)'>"
            + bar(counts["succeeded"], "var(--jp-success-color1, #388e3c)")
            + bar(counts["failed"] + counts["cancelled"], "var(--jp-error-color1, #d32f2f)")
            + bar(counts["running"], "var(--jp-brand-color3, #90caf9)")
            + f"</div><div style='color:var(--jp-ui-font-color1, #222)'>{html.escape(line)}</div></div>"
        )
        return {"text/plain": line, "text/html": page}
