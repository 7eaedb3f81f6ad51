import { afterEach, describe, expect, it } from "vitest";
import { shownSteps, StatusBar, stepTitle, timelineText } from "./status-bar";
import { askRun, at, taskRun, timeline, TASK_STEPS } from "./testing";

afterEach(() => document.body.replaceChildren());

const summary = (steps: ReturnType<typeof shownSteps>) => steps.map((s) => `${s.step.name}:${s.state}`);

describe("tasks (the spec's 11 statuses)", () => {
  it("shows every non-terminal status, then Completed greyed while live", () => {
    const steps = shownSteps(taskRun(), at(3000));
    expect(summary(steps)).toEqual([
      "Received:done", "Queued:done", "Scheduled:skipped", "Preparing:skipped", "Serving:skipped",
      "Setting Up:skipped", "Running:current", "Uploading:future", "Completed:future",
    ]);
    expect(steps.map((s) => s.ms)).toEqual([300, 2100, null, null, null, null, 600, null, null]);
  });

  it("shows only the terminal status reached", () => {
    for (const [status, phase] of [["Completed", "succeeded"], ["Failed", "failed"], ["Cancelled", "cancelled"]] as const) {
      const run = taskRun({ status, phase, timeline: timeline(["Received", 0], ["Running", 100], [status, 900]) });
      const steps = shownSteps(run, at(5000));
      expect(steps.filter((s) => s.step.terminal).map((s) => s.step.name)).toEqual([status]);
      expect(steps[steps.length - 1]).toMatchObject({ state: "current", ms: null });
      expect(steps.find((s) => s.step.name === "Running")).toMatchObject({ state: "done", ms: 800 });
    }
  });

  it("has the native code and name as each step's hover title", () => {
    expect(TASK_STEPS.map(stepTitle).slice(5, 8)).toEqual(["6 · Setting Up", "7 · Running", "8 · Uploading"]);
    expect(stepTitle({ name: "running", code: "running", terminal: false })).toBe("running");
    expect(stepTitle({ name: "Odd", code: null, terminal: false })).toBe("Odd");
  });
});

describe("runs (pending, running, paused, done, failed)", () => {
  it("marks a paused run's pause as current", () => {
    const run = askRun({ status: "paused", code: "paused", timeline: timeline(["pending", 0], ["running", 200], ["paused", 1200]) });
    expect(summary(shownSteps(run, at(2000)))).toEqual(["pending:done", "running:done", "paused:current", "done:future"]);
  });

  it("greys a pause that never happened, and ends on done or failed", () => {
    const done = askRun({ phase: "succeeded", status: "done", timeline: timeline(["pending", 0], ["running", 200], ["done", 1000]) });
    expect(summary(shownSteps(done, at(2000)))).toEqual(["pending:done", "running:done", "paused:skipped", "done:current"]);
    const failed = askRun({ phase: "failed", status: "failed", timeline: timeline(["pending", 0], ["failed", 100]) });
    expect(summary(shownSteps(failed, at(2000)))).toEqual(["pending:done", "running:skipped", "paused:skipped", "failed:current"]);
  });
});

describe("StatusBar", () => {
  it("draws the steps with classes, durations, titles and the elapsed time", () => {
    const bar = new StatusBar();
    document.body.append(bar.el);
    bar.update(taskRun(), at(3000));
    expect(bar.el.hidden).toBe(false);
    expect(bar.el.className).toBe("inb-run inb-phase-running");
    const items = Array.from(bar.el.querySelectorAll<HTMLElement>(".inb-step"));
    expect(items.map((li) => li.querySelector(".inb-step-name")!.textContent)).toContain("Setting Up");
    const running = bar.el.querySelector<HTMLElement>('[aria-current="step"]')!;
    expect(running.className).toBe("inb-step inb-step-current");
    expect(running.title).toBe("7 · Running");
    expect(running.querySelector(".inb-step-time")!.textContent).toBe("600 ms");
    expect(items[1]!.className).toBe("inb-step inb-step-done");
    expect(items[1]!.querySelector(".inb-step-time")!.textContent).toBe("2.1 s");
    expect(items[0]!.querySelector(".inb-step-time")!.textContent).toBe("300 ms");
    expect(items[2]!.className).toBe("inb-step inb-step-skipped");
    expect(bar.el.querySelector(".inb-elapsed")!.textContent).toBe("3.0 s");
    expect(bar.el.querySelector(".inb-run-label")!.textContent).toBe("demo/picture@1.0.0");
  });

  it("ticks in place: the same elements, a later time", () => {
    const bar = new StatusBar();
    bar.update(taskRun(), at(3000));
    const before = Array.from(bar.el.querySelectorAll(".inb-step"));
    bar.update(taskRun(), at(65_000));
    expect(Array.from(bar.el.querySelectorAll(".inb-step"))).toEqual(before);
    expect(bar.el.querySelector(".inb-elapsed")!.textContent).toBe("1 min 5 s");
  });

  it("shows the app's progress while the run is live, and drops it once it ended", () => {
    const bar = new StatusBar();
    bar.update(taskRun({ progress: { done: 3, total: 10, message: "step 3" } }), at(3000));
    const line = bar.el.querySelector<HTMLElement>(".inb-progress")!;
    const meter = line.querySelector<HTMLProgressElement>("progress")!;
    expect(line.hidden).toBe(false);
    expect([meter.value, meter.max, meter.getAttribute("aria-valuetext")]).toEqual([3, 10, "3 / 10 · step 3"]);
    expect(line.querySelector(".inb-progress-text")!.textContent).toBe("3 / 10 · step 3");
    bar.update(taskRun({ progress: { done: 7, total: null, message: null } }), at(3000));
    expect(meter.hasAttribute("value")).toBe(false); // indeterminate: no total known
    expect(line.textContent).toBe("7");
    bar.update(taskRun({ phase: "succeeded", status: "Completed", progress: { done: 10, total: 10, message: null } }), at(3000));
    expect(line.hidden).toBe(true);
    bar.update(taskRun(), at(3000));
    expect(line.hidden).toBe(true);
  });

  it("keeps statuses that passed in milliseconds visible as a timeline", () => {
    const run = taskRun({
      phase: "succeeded", status: "Completed",
      timeline: timeline(["Received", 0], ["Queued", 3], ["Scheduled", 4], ["Running", 6], ["Completed", 2106]),
    });
    expect(timelineText(run, at(9000))).toBe("Received 3 ms · Queued 1 ms · Scheduled 2 ms · Running 2.1 s · Completed");
    const bar = new StatusBar();
    bar.update(run, at(9000));
    expect(bar.el.querySelector(".inb-timeline")!.textContent).toBe(timelineText(run, at(9000)));
  });

  it("shows the steps or the timeline, not both, the other a click away", () => {
    const bar = new StatusBar();
    bar.update(taskRun(), at(3000));
    const steps = bar.el.querySelector<HTMLElement>(".inb-steps")!;
    const line = bar.el.querySelector<HTMLElement>(".inb-timeline")!;
    const toggle = bar.el.querySelector<HTMLButtonElement>(".inb-view-toggle")!;
    expect([steps.hidden, line.hidden, toggle.getAttribute("aria-pressed")]).toEqual([false, true, "false"]);
    toggle.click();
    expect([steps.hidden, line.hidden, toggle.getAttribute("aria-pressed")]).toEqual([true, false, "true"]);
    toggle.click();
    expect([steps.hidden, line.hidden]).toEqual([false, true]);
  });

  it("never says a step was done when the run was cancelled in it", () => {
    const bar = new StatusBar();
    bar.update(taskRun({ phase: "cancelled", status: "Cancelled", timeline: timeline(["Received", 0], ["Running", 5], ["Cancelled", 900]) }), at(1000));
    const running = Array.from(bar.el.querySelectorAll(".inb-step")).find((li) => li.textContent!.startsWith("Running"))!;
    expect(running.querySelector(".inb-sr")!.textContent).toBe(" (passed)");
    expect(bar.el.textContent).not.toMatch(/\(done\)/);
  });

  it("colours terminal phases through classes and shows the total", () => {
    const bar = new StatusBar();
    bar.update(taskRun({ phase: "failed", status: "Failed", timeline: timeline(["Received", 0], ["Failed", 1500]) }), at(9000));
    expect(bar.el.classList.contains("inb-phase-failed")).toBe(true);
    expect(bar.el.querySelector(".inb-step-current")!.textContent).toContain("Failed");
    expect(bar.el.querySelector(".inb-elapsed")!.textContent).toBe("total 1.5 s");
    bar.update(null, at(0));
    expect(bar.el.hidden).toBe(true);
  });
});
