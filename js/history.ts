// Every run started from this widget, newest first: when it started, what it was
// given, its status and time. Picking one makes it the current run (the kernel
// decides, through a "select" message); its input can be loaded into the form or
// run again.
import type { AppInfo, RunInput, RunView } from "./types";
import { h, syncKeyed } from "./dom";
import { inputSummary, matchApp } from "./run-input";
import { elapsedMs, formatClock, formatDuration } from "./time";

export interface HistoryActions {
  select(runId: string): void;
  load(input: RunInput): void;
  rerun(input: RunInput): void;
}

const INCOMPLETE = "Part of this input was not kept (a secret, file data or a long value): load it into the form and complete it.";

export class HistoryView {
  readonly el: HTMLElement;
  private readonly list = h("ol", { class: "inb-history-list" });
  private readonly count = h("span", {});
  /** The input each item's buttons use: the latest view of its run. */
  private readonly inputs = new Map<string, RunInput | null>();

  constructor(private readonly actions: HistoryActions) {
    this.el = h("details", { class: "inb-history", open: true },
      h("summary", {}, "Runs ", this.count), this.list);
    this.el.hidden = true;
  }

  /** `apps`: the server's apps, whose defaults the summaries leave out; `readOnly`: no kernel to run anything again. */
  update(runs: RunView[], current: string | null, now: number, apps: readonly AppInfo[] = [], readOnly = false): void {
    this.el.hidden = runs.length === 0;
    this.count.textContent = `(${runs.length})`;
    const newestFirst = [...runs].reverse();
    syncKeyed(this.list, newestFirst, (r) => r.id, (r) => this.createItem(r), (node, r) => {
      this.inputs.set(r.id, r.input);
      const app = r.input?.kind === "app" ? matchApp(apps, r.input.app) : undefined;
      updateItem(node, r, r.id === current, now, inputSummary(r.input, r.label, app), readOnly);
    });
  }

  private createItem(run: RunView): HTMLElement {
    // The status stays outside the button: a button named "… Cancelled" would also answer to "Cancel".
    const show = h("button", { type: "button", class: "inb-history-item" },
      h("span", { class: "inb-history-dot", "aria-hidden": "true" }),
      h("span", { class: "inb-history-clock" }),
      h("span", { class: "inb-history-label" }));
    const load = h("button", { type: "button", class: "inb-history-load" }, "Load into form");
    const again = h("button", { type: "button", class: "inb-history-again" }, "Run again");
    show.addEventListener("click", () => this.actions.select(run.id));
    load.addEventListener("click", () => this.withInput(run.id, (input) => this.actions.load(input)));
    again.addEventListener("click", () => this.withInput(run.id, (input) => input.complete && this.actions.rerun(input)));
    return h("li", { class: "inb-history-row" },
      show,
      h("span", { class: "inb-history-status" }),
      h("span", { class: "inb-history-time" }),
      h("span", { class: "inb-history-actions" }, load, again));
  }

  private withInput(runId: string, use: (input: RunInput) => void): void {
    const input = this.inputs.get(runId);
    if (input) use(input);
  }
}

function updateItem(node: HTMLElement, run: RunView, isCurrent: boolean, now: number, summary: string, readOnly: boolean): void {
  const [show, status, time, actions] = Array.from(node.children) as HTMLElement[];
  const [, clock, label] = Array.from(show!.children) as HTMLElement[];
  const [load, again] = Array.from(actions!.children) as HTMLButtonElement[];
  node.className = `inb-history-row inb-phase-${run.phase}`;
  if (isCurrent) show!.setAttribute("aria-current", "true");
  else show!.removeAttribute("aria-current");
  if (show!.title !== run.id) show!.title = run.id;
  const started = run.timeline[0]?.at;
  clock!.textContent = started ? formatClock(started) : "";
  label!.textContent = summary;
  status!.textContent = run.status;
  const ms = elapsedMs(run, now);
  time!.textContent = ms === null ? "" : formatDuration(ms);
  actions!.hidden = run.input === null;
  load!.setAttribute("aria-label", `Load into form: ${summary}`);
  again!.setAttribute("aria-label", `Run again: ${summary}`);
  const incomplete = run.input !== null && !run.input.complete;
  again!.disabled = readOnly || incomplete;
  again!.title = incomplete ? INCOMPLETE : "";
}
