// What a screen reader hears of the current run: one polite live region that says each
// status change ("demo/sleep: Running") and how the run ended, with its result or failure.
// The steps and timeline change several times a second while live; announcing them would
// drown the user, so only the status (and the ending) is said.
import type { RunView } from "./types";
import { h } from "./dom";
import { isTerminal } from "./time";

export class Announcer {
  readonly el = h("div", { class: "inb-sr", "aria-live": "polite", "aria-atomic": "true", role: "status" });
  /** What was last said or found of each run, by id. */
  private readonly seen = new Map<string, string>();

  /**
   * Announce `run`'s status when it changed since it was last seen. A run first seen already
   * ended (a saved view, a reload, a pick in the history) is not news.
   */
  update(run: RunView | null): void {
    if (!run) return;
    const text = announcement(run);
    const before = this.seen.get(run.id);
    this.seen.set(run.id, text);
    if (before === undefined ? isTerminal(run) : before === text) return;
    this.el.textContent = text;
  }
}

/** "demo/sleep@1.0.0: Running", or how it ended: "…: Completed. 3 rows", "…: Failed. the reason". */
export function announcement(run: RunView): string {
  const head = `${run.label}: ${run.status}`;
  if (!isTerminal(run)) return head;
  if (run.phase === "failed") return `${head}. ${run.error ?? run.summary ?? "the server gave no reason"}`;
  if (run.phase === "cancelled") return head;
  const result = run.summary
    ?? (run.preview ? `${run.preview.total} ${run.preview.total === 1 ? "row" : "rows"}` : null)
    ?? (run.images.length ? `${run.images.length} ${run.images.length === 1 ? "image" : "images"}` : null)
    ?? (run.text !== null ? run.text.slice(0, 200) : "no result");
  return `${head}. ${result}`;
}
