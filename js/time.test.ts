import { describe, expect, it } from "vitest";
import { elapsedMs, fold, formatClock, formatDuration, isTerminal, passages, stepDurations } from "./time";
import { at, taskRun, timeline } from "./testing";

describe("formatDuration", () => {
  it("reads like a person would say it", () => {
    expect(formatDuration(0)).toBe("<1 ms");
    expect(formatDuration(3)).toBe("3 ms");
    expect(formatDuration(300.4)).toBe("300 ms");
    expect(formatDuration(999.6)).toBe("1.0 s");
    expect(formatDuration(2100)).toBe("2.1 s");
    expect(formatDuration(59_940)).toBe("59.9 s");
    expect(formatDuration(65_000)).toBe("1 min 5 s");
    expect(formatDuration(3_725_000)).toBe("1 h 2 min");
  });
});

describe("formatClock", () => {
  it("gives the local time of day, and nothing for a bad time", () => {
    const local = new Date(2026, 10, 2, 9, 3, 7);
    expect(formatClock(local.toISOString())).toBe("09:03:07");
    expect(formatClock("not a time")).toBe("");
  });
});

describe("timings", () => {
  it("keeps each stay in a status in order, with its own duration", () => {
    const run = taskRun({ timeline: timeline(["Received", 0], ["Queued", 3], ["Running", 4], ["Paused", 900], ["Running", 1000]) });
    expect(passages(run, at(3000))).toEqual([
      { name: "Received", ms: 3 }, { name: "Queued", ms: 1 }, { name: "Running", ms: 896 }, { name: "Paused", ms: 100 }, { name: "Running", ms: 2000 },
    ]);
    expect(passages(taskRun({ phase: "succeeded", timeline: timeline(["Received", 0], ["Completed", 5]) }), at(9))).toEqual([
      { name: "Received", ms: 5 }, { name: "Completed", ms: null },
    ]);
  });

  it("takes each status's time from consecutive timeline entries, adding repeats", () => {
    const run = taskRun({
      phase: "succeeded", status: "Completed",
      timeline: timeline(["Received", 0], ["Running", 300], ["Uploading", 2400], ["Running", 2500], ["Completed", 3000]),
    });
    const spent = stepDurations(run, at(99_000));
    expect(spent.get("received")).toBe(300);
    expect(spent.get("running")).toBe(2100 + 500);
    expect(spent.get("uploading")).toBe(100);
    expect(spent.has("completed")).toBe(false);
    expect(elapsedMs(run, at(99_000))).toBe(3000);
  });

  it("counts a live run's current status and elapsed time up to now", () => {
    const run = taskRun();
    expect(stepDurations(run, at(3000)).get("running")).toBe(600);
    expect(elapsedMs(run, at(3000))).toBe(3000);
    // A browser clock behind the server's never shows less than the timeline.
    expect(elapsedMs(run, at(1000))).toBe(2400);
    expect(elapsedMs(taskRun({ timeline: [] }), at(0))).toBeNull();
  });

  it("folds status names and knows the terminal phases", () => {
    expect(fold("Setting Up")).toBe(fold("setting_up"));
    expect(isTerminal(taskRun({ phase: "cancelled" }))).toBe(true);
    expect(isTerminal(taskRun({ phase: "pending" }))).toBe(false);
  });
});
