// The live status bar of the current run: each status of its protocol as a
// step, the one it is in marked, how long each took, the time so far; the app's
// own progress while it runs. The timeline of statuses in the order passed says
// much the same, so it replaces the steps at a click rather than showing under them.
import type { RunView, Step } from "./types";
import { h, syncKeyed } from "./dom";
import { ProgressLine } from "./progress";
import { elapsedMs, fold, formatDuration, isTerminal, passages, stepDurations } from "./time";

export type StepState = "done" | "current" | "skipped" | "future";

export interface ShownStep {
  step: Step;
  state: StepState;
  /** Time spent in it: finished, or so far for the current step of a live run. */
  ms: number | null;
}

/**
 * The steps to draw. Of the terminal steps (only one of which a run reaches)
 * a finished run shows the one it reached, a live run the first (success) one.
 */
export function shownSteps(run: RunView, now: number): ShownStep[] {
  const status = fold(run.status);
  const reached = new Set(run.timeline.map((t) => fold(t.name)));
  const spent = stepDurations(run, now);
  const at = run.steps.findIndex((s) => fold(s.name) === status);
  const ending = isTerminal(run) ? run.steps.find((s) => s.terminal && fold(s.name) === status) : run.steps.find((s) => s.terminal);
  return run.steps
    .map((step, index) => ({ step, index, name: fold(step.name) }))
    .filter(({ step }) => !step.terminal || step === ending)
    .map(({ step, index, name }) => {
      const state: StepState =
        name === status ? "current" : reached.has(name) ? "done" : at >= 0 && index < at ? "skipped" : "future";
      return { step, state, ms: state === "done" || state === "current" ? spent.get(name) ?? null : null };
    });
}

/** The hover title: the server's own code and name, e.g. "7 · Running". */
export function stepTitle(step: Step): string {
  if (step.code === null || String(step.code) === step.name) return step.name;
  return `${step.code} · ${step.name}`;
}

// Screen-reader words after a step's name. Not "done": after a cancel, "Running (done)"
// would read as if the work had finished.
const STATE_WORDS: Record<StepState, string> = {
  done: "passed",
  current: "now",
  skipped: "skipped",
  future: "not reached",
};

export class StatusBar {
  readonly el: HTMLElement;
  private readonly label = h("span", { class: "inb-run-label" });
  private readonly status = h("span", { class: "inb-run-status" });
  private readonly elapsed = h("span", { class: "inb-elapsed", "aria-label": "elapsed time" });
  private readonly steps = h("ol", { class: "inb-steps", "aria-label": "Statuses" });
  private readonly progress = new ProgressLine();
  private readonly timeline = h("p", { class: "inb-timeline" });
  /** Shows the timeline instead of the steps (pressed) or the steps (not). */
  private readonly toggle = h("button", { type: "button", class: "inb-small inb-view-toggle", "aria-pressed": "false" }, "Timeline");

  constructor() {
    const head = h("div", { class: "inb-run-head" }, this.label, this.status, this.elapsed, this.toggle);
    this.el = h("section", { class: "inb-run", "aria-label": "Current run" }, head, this.steps, this.timeline, this.progress.el);
    this.el.hidden = true;
    this.toggle.addEventListener("click", () => this.showTimeline(this.toggle.getAttribute("aria-pressed") !== "true"));
    this.showTimeline(false);
  }

  /** The timeline (true) or the steps (false). */
  showTimeline(on: boolean): void {
    this.toggle.setAttribute("aria-pressed", String(on));
    this.toggle.title = on ? "Show the steps instead" : "Show the statuses in the order passed, with their times";
    this.steps.hidden = on;
    this.timeline.hidden = !on;
  }

  update(run: RunView | null, now: number): void {
    this.el.hidden = run === null;
    if (!run) return;
    this.el.className = `inb-run inb-phase-${run.phase}`;
    this.label.textContent = run.label;
    this.label.title = run.id;
    this.status.textContent = run.status;
    const ms = elapsedMs(run, now);
    this.elapsed.textContent = ms === null ? "" : isTerminal(run) ? `total ${formatDuration(ms)}` : formatDuration(ms);
    syncKeyed(this.steps, shownSteps(run, now), (s) => s.step.name, createStep, updateStep);
    this.progress.update(isTerminal(run) ? null : run.progress);
    this.timeline.textContent = timelineText(run, now);
  }
}

/**
 * "Received 3 ms · Queued 1 ms · … · Running 2.1 s · Completed": every status in the
 * order passed, with its own duration, so statuses that passed in milliseconds stay visible.
 */
export function timelineText(run: RunView, now: number): string {
  return passages(run, now).map((p) => (p.ms === null ? p.name : `${p.name} ${formatDuration(p.ms)}`)).join(" · ");
}

function createStep(): HTMLElement {
  return h("li", { class: "inb-step" },
    h("span", { class: "inb-dot", "aria-hidden": "true" }),
    h("span", { class: "inb-step-name" }),
    h("span", { class: "inb-step-time" }),
    h("span", { class: "inb-sr" }));
}

function updateStep(node: HTMLElement, shown: ShownStep): void {
  const [, name, time, words] = Array.from(node.children) as HTMLElement[];
  node.className = `inb-step inb-step-${shown.state}`;
  if (node.title !== stepTitle(shown.step)) node.title = stepTitle(shown.step);
  if (shown.state === "current") node.setAttribute("aria-current", "step");
  else node.removeAttribute("aria-current");
  name!.textContent = shown.step.name;
  time!.textContent = shown.ms === null ? "" : formatDuration(shown.ms);
  words!.textContent = ` (${STATE_WORDS[shown.state]})`;
}
