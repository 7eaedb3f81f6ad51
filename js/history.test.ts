import { describe, expect, it, vi } from "vitest";
import { HistoryView } from "./history";
import { askRun, at, taskRun, timeline } from "./testing";

describe("history", () => {
  const runs = [
    taskRun({ id: "a", label: "demo/picture@1.0.0", phase: "succeeded", status: "Completed", timeline: timeline(["Received", 0], ["Completed", 4200]) }),
    askRun({ id: "b", label: "How many?" }),
  ];

  it("lists runs newest first with label, status and elapsed time, the current one marked", () => {
    const view = new HistoryView(vi.fn());
    view.update(runs, "a", at(1500));
    const items = Array.from(view.el.querySelectorAll("button"));
    expect(items.map((b) => [b.querySelector(".inb-history-label")!.textContent, b.querySelector(".inb-history-status")!.textContent, b.querySelector(".inb-history-time")!.textContent])).toEqual([
      ["How many?", "running", "1.5 s"],
      ["demo/picture@1.0.0", "Completed", "4.2 s"],
    ]);
    expect(items[1]!.getAttribute("aria-current")).toBe("true");
    expect(items[1]!.classList.contains("inb-phase-succeeded")).toBe(true);
    expect(view.el.querySelector("summary")!.textContent).toBe("Runs (2)");
  });

  it("asks to select a run when one is clicked, keeping elements across updates", () => {
    const select = vi.fn();
    const view = new HistoryView(select);
    view.update(runs, "b", at(0));
    const first = view.el.querySelector("button")!;
    view.update([...runs, askRun({ id: "c" })], "c", at(0));
    expect(view.el.querySelectorAll("button")[1]).toBe(first);
    first.click();
    expect(select).toHaveBeenCalledWith("b");
  });

  it("hides when there are no runs", () => {
    const view = new HistoryView(vi.fn());
    view.update([], null, 0);
    expect(view.el.hidden).toBe(true);
  });
});
