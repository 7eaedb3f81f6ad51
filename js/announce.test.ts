import { describe, expect, it } from "vitest";
import { Announcer } from "./announce";
import { taskRun } from "./testing";

describe("announcer", () => {
  it("is a polite live region saying each status change and how the run ended", () => {
    const announcer = new Announcer();
    expect(announcer.el.getAttribute("aria-live")).toBe("polite");
    announcer.update(taskRun({ label: "demo/sleep", status: "Queued", phase: "pending" }));
    expect(announcer.el.textContent).toBe("demo/sleep: Queued");
    announcer.update(taskRun({ label: "demo/sleep", status: "Running" }));
    expect(announcer.el.textContent).toBe("demo/sleep: Running");
    announcer.update(taskRun({ label: "demo/sleep", status: "Completed", phase: "succeeded", preview: { columns: ["a"], rows: [[1]], total: 3 } }));
    expect(announcer.el.textContent).toBe("demo/sleep: Completed. 3 rows");
  });

  it("says a failure with its reason, and is quiet about runs first seen already ended", () => {
    const announcer = new Announcer();
    announcer.update(taskRun({ id: "old", status: "Completed", phase: "succeeded", summary: "done" }));
    expect(announcer.el.textContent).toBe("");
    announcer.update(taskRun({ id: "f", label: "demo/fail", status: "Running" }));
    announcer.update(taskRun({ id: "f", label: "demo/fail", status: "Failed", phase: "failed", error: "boom" }));
    expect(announcer.el.textContent).toBe("demo/fail: Failed. boom");
  });
});
