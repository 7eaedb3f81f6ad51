import { describe, expect, it, vi } from "vitest";
import { JobsView } from "./jobs";
import { askRun, taskRun } from "./testing";
import type { InputRequestView, JobView } from "./types";

const job = (over: Partial<JobView>): JobView => ({
  id: "j1", service: "inventory", targetFn: "search", status: "success", resultType: "resolution",
  approvalRequested: false, approved: null, ...over,
});
const request = (over: Partial<InputRequestView> = {}): InputRequestView => ({
  id: "ir1", type: "approval", jobId: "j2", description: "Approve deleting 3 rows?", outcome: null, ...over,
});

describe("JobsView", () => {
  it("lists a run's function calls as they happen", () => {
    const view = new JobsView(vi.fn());
    view.update(askRun({ jobs: [job({}), job({ id: "j2", targetFn: "delete", status: "pending", resultType: null, approvalRequested: true })] }));
    const rows = Array.from(view.el.querySelectorAll(".inb-job")).map((li) => li.textContent);
    expect(rows).toEqual(["inventory.searchsuccess→ resolution", "inventory.deletepending, awaiting approval"]);
    view.update(askRun({ jobs: [job({ status: "failure", error: "no such table" })] }));
    expect(view.el.querySelector(".inb-job-error")!.textContent).toBe("no such table");
    expect(view.el.querySelectorAll(".inb-job")).toHaveLength(1);
  });

  it("shows open input requests with Approve and Reject, and sends the answer once", () => {
    const decide = vi.fn();
    const view = new JobsView(decide);
    view.update(askRun({ status: "paused", input_requests: [request(), request({ id: "ir0", outcome: "approved" })] }));
    const items = view.el.querySelectorAll(".inb-request");
    expect(items).toHaveLength(1);
    expect(items[0]!.textContent).toBe("Approve deleting 3 rows?ApproveReject");
    const [approve, reject] = Array.from(items[0]!.querySelectorAll("button"));
    reject!.click();
    expect(decide).toHaveBeenCalledWith("run-1", expect.objectContaining({ id: "ir1", jobId: "j2" }), false);
    expect(approve!.disabled && reject!.disabled).toBe(true);
    // A later update keeps the same element (and the buttons waiting).
    view.update(askRun({ status: "paused", input_requests: [request()] }));
    expect(view.el.querySelector(".inb-request")).toBe(items[0]);
    expect(approve!.disabled).toBe(true);
    view.reopen("ir1");
    expect(approve!.disabled).toBe(false);
    approve!.click();
    expect(decide).toHaveBeenLastCalledWith("run-1", expect.anything(), true);
  });

  it("says a call refused at approval was not called, not that it succeeded", () => {
    const view = new JobsView(vi.fn());
    const refused = job({ targetFn: "restock", resultType: "rejection", approvalRequested: true, approved: false, error: "the call was not approved" });
    view.update(askRun({ jobs: [refused, job({ id: "j2", approvalRequested: true, approved: true })] }));
    const rows = Array.from(view.el.querySelectorAll(".inb-job")).map((li) => li.textContent);
    expect(rows).toEqual(["inventory.restockrejected, not calledthe call was not approved", "inventory.searchsuccess, approved→ resolution"]);
  });

  it("is empty for tasks and runs without jobs", () => {
    const view = new JobsView(vi.fn());
    view.update(taskRun());
    expect(view.el.hidden).toBe(true);
    view.update(null);
    expect(view.el.hidden).toBe(true);
  });
});
