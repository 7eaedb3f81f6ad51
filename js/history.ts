// Every run started from this widget, newest first; picking one makes it the
// current run (the kernel decides, through a "select" message).
import type { RunView } from "./types";
import { h, syncKeyed } from "./dom";
import { elapsedMs, formatDuration } from "./time";

export class HistoryView {
  readonly el: HTMLElement;
  private readonly list = h("ol", { class: "inb-history-list" });
  private readonly count = h("span", {});

  constructor(private readonly select: (runId: string) => void) {
    this.el = h("details", { class: "inb-history", open: true },
      h("summary", {}, "Runs ", this.count), this.list);
    this.el.hidden = true;
  }

  update(runs: RunView[], current: string | null, now: number): void {
    this.el.hidden = runs.length === 0;
    this.count.textContent = `(${runs.length})`;
    const newestFirst = [...runs].reverse();
    syncKeyed(this.list, newestFirst, (r) => r.id, (r) => this.createItem(r), (node, r) => updateItem(node, r, r.id === current, now));
  }

  private createItem(run: RunView): HTMLElement {
    const button = h("button", { type: "button", class: "inb-history-item" },
      h("span", { class: "inb-history-dot", "aria-hidden": "true" }),
      h("span", { class: "inb-history-label" }),
      h("span", { class: "inb-history-status" }),
      h("span", { class: "inb-history-time" }));
    button.addEventListener("click", () => this.select(run.id));
    return h("li", {}, button);
  }
}

function updateItem(node: HTMLElement, run: RunView, isCurrent: boolean, now: number): void {
  const button = node.firstElementChild as HTMLButtonElement;
  const [, label, status, time] = Array.from(button.children) as HTMLElement[];
  button.className = `inb-history-item inb-phase-${run.phase}`;
  if (isCurrent) button.setAttribute("aria-current", "true");
  else button.removeAttribute("aria-current");
  if (button.title !== run.id) button.title = run.id;
  label!.textContent = run.label;
  status!.textContent = run.status;
  const ms = elapsedMs(run, now);
  time!.textContent = ms === null ? "" : formatDuration(ms);
}
