import { describe, expect, it, vi } from "vitest";
import { HistoryView } from "./history";
import { askRun, at, taskRun, timeline } from "./testing";
import type { RunInput } from "./types";

const actions = () => ({ select: vi.fn(), load: vi.fn(), rerun: vi.fn() });
const SLEEP: RunInput = { kind: "app", app: "demo/sleep@1.0.0", values: { seconds: 3, message: "hi" }, complete: true };
const T0_LOCAL = new Date(at(0));
const clock = (d: Date) => [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");

describe("history", () => {
  const runs = [
    taskRun({ id: "a", label: "demo/sleep@1.0.0", phase: "cancelled", status: "Cancelled", input: SLEEP,
      timeline: timeline(["Received", 0], ["Cancelled", 4200]) }),
    askRun({ id: "b", label: "How many?", input: { kind: "ask", message: "How many\nhammers?", schema: null, complete: true } }),
  ];

  it("lists runs newest first: start time, input summary, status and elapsed time, the current one marked", () => {
    const view = new HistoryView(actions());
    view.update(runs, "a", at(1500));
    const rows = Array.from(view.el.querySelectorAll<HTMLElement>(".inb-history-row"));
    const text = (row: HTMLElement, part: string) => row.querySelector(`.inb-history-${part}`)!.textContent;
    expect(rows.map((r) => [text(r, "clock"), text(r, "label"), text(r, "status"), text(r, "time")])).toEqual([
      [clock(T0_LOCAL), "How many hammers?", "running", "1.5 s"],
      [clock(T0_LOCAL), "demo/sleep: seconds=3, message=hi", "Cancelled", "4.2 s"],
    ]);
    const shows = rows.map((r) => r.querySelector<HTMLButtonElement>(".inb-history-item")!);
    expect(shows[1]!.getAttribute("aria-current")).toBe("true");
    expect(rows[1]!.classList.contains("inb-phase-cancelled")).toBe(true);
    expect(view.el.querySelector("summary")!.textContent).toBe("Runs (2)");
  });

  it("keeps the status out of every button's name, so no button answers to a search for Cancel", () => {
    const view = new HistoryView(actions());
    view.update(runs, "a", at(0));
    const names = Array.from(view.el.querySelectorAll("button")).map((b) => b.getAttribute("aria-label") ?? b.textContent!);
    expect(names.filter((name) => /cancel/i.test(name))).toEqual([]);
    expect(names).toContain("Load into form: demo/sleep: seconds=3, message=hi");
  });

  it("asks to select a run when one is clicked, keeping elements across updates", () => {
    const act = actions();
    const view = new HistoryView(act);
    view.update(runs, "b", at(0));
    const first = view.el.querySelector(".inb-history-item")!;
    view.update([...runs, askRun({ id: "c" })], "c", at(0));
    expect(view.el.querySelectorAll(".inb-history-item")[1]).toBe(first);
    (first as HTMLButtonElement).click();
    expect(act.select).toHaveBeenCalledWith("b");
  });

  it("loads a run's input into the form or runs it again, with the latest view of it", () => {
    const act = actions();
    const view = new HistoryView(act);
    view.update(runs, "a", at(0));
    const row = view.el.querySelectorAll<HTMLElement>(".inb-history-row")[1]!;
    row.querySelector<HTMLButtonElement>(".inb-history-load")!.click();
    expect(act.load).toHaveBeenCalledWith(SLEEP);
    const changed = { ...SLEEP, values: { seconds: 5 } };
    view.update([{ ...runs[0]!, input: changed }, runs[1]!], "a", at(0));
    row.querySelector<HTMLButtonElement>(".inb-history-again")!.click();
    expect(act.rerun).toHaveBeenCalledWith(changed);
  });

  it("offers no Run again for an input that lost parts, and no buttons without an input", () => {
    const act = actions();
    const view = new HistoryView(act);
    const partial = taskRun({ id: "p", input: { ...SLEEP, complete: false } });
    view.update([partial, taskRun({ id: "n", input: null })], null, at(0));
    const [none, part] = Array.from(view.el.querySelectorAll<HTMLElement>(".inb-history-row"));
    expect(none!.querySelector<HTMLElement>(".inb-history-actions")!.hidden).toBe(true);
    expect(none!.querySelector(".inb-history-label")!.textContent).toBe("demo/picture@1.0.0");
    const again = part!.querySelector<HTMLButtonElement>(".inb-history-again")!;
    expect(again.disabled).toBe(true);
    expect(again.title).toMatch(/not kept/);
    again.click();
    expect(act.rerun).not.toHaveBeenCalled();
  });

  it("hides when there are no runs", () => {
    const view = new HistoryView(actions());
    view.update([], null, 0);
    expect(view.el.hidden).toBe(true);
  });
});
