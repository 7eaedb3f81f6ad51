import { describe, expect, it } from "vitest";
import { ResultsView } from "./results";
import type { RunView } from "./types";
import { askRun, taskRun } from "./testing";

const done = { phase: "succeeded" as const, status: "done" };
const BLOB = "blob:http://localhost/1";

function render(run: RunView) {
  const view = new ResultsView();
  view.update(run);
  return view.el;
}

describe("results", () => {
  it("shows a table preview with the row count", () => {
    const el = render(askRun({
      ...done, summary: "Found 2 items.",
      preview: { columns: ["name", "qty", "meta"], rows: [["apple", 3, { a: 1 }], ["pear", null, [1]]], total: 250 },
    }));
    expect(el.querySelector(".inb-summary")!.textContent).toBe("Found 2 items.");
    expect(Array.from(el.querySelectorAll("th")).map((th) => th.textContent)).toEqual(["name", "qty", "meta"]);
    expect(Array.from(el.querySelectorAll("tbody tr")).map((tr) => Array.from(tr.children).map((td) => td.textContent))).toEqual([
      ["apple", "3", '{"a":1}'],
      ["pear", "null", "[1]"],
    ]);
    expect(el.querySelector("td.inb-num")!.textContent).toBe("3");
    expect(el.querySelector("td.inb-null")).not.toBeNull();
    const foot = el.querySelector(".inb-table-foot")!;
    expect(foot.firstChild!.textContent).toBe("showing 2 of 250 rows");
    expect(Array.from(foot.querySelectorAll("button")).map((b) => [b.textContent, b.title])).toEqual([
      ["Copy", "Copy the 2 rows shown (of 250: the whole table is widget.df in the kernel) as tab-separated text"],
      ["Download CSV", "Download the 2 rows shown (of 250: the whole table is widget.df in the kernel) as a CSV file"],
    ]);
  });

  it("says who planned an ended run, as text", () => {
    const planned = render(askRun({ ...done, summary: "Found 2 items.", text: "[]", planner: "<b>SmolLM2</b>" }));
    expect(planned.querySelector(".inb-planner")!.textContent).toBe("Planned by <b>SmolLM2</b>");
    expect(planned.querySelector("b")).toBeNull();
    const failed = render(askRun({ phase: "failed", status: "failed", error: "unreachable", planner: "deterministic" }));
    expect(failed.querySelector(".inb-planner")!.textContent).toBe("Planned by deterministic");
    const running = new ResultsView();
    running.update(askRun({ phase: "running", status: "running", planner: "deterministic" }));
    expect(running.el.hidden).toBe(true);
  });

  it("shows images inline and text in a pre", () => {
    const el = render(taskRun({ phase: "succeeded", status: "Completed", images: [{ src: BLOB, filename: "out.png" }, { src: `${BLOB}2`, filename: null }], text: '{"slept": 2.0}' }));
    const imgs = el.querySelectorAll("img");
    expect(Array.from(imgs).map((i) => [i.getAttribute("src"), i.alt])).toEqual([[BLOB, "out.png"], [`${BLOB}2`, "result image"]]);
    expect(Array.from(el.querySelectorAll("figcaption")).map((f) => f.textContent)).toEqual(["out.png"]);
    expect(el.querySelector("pre.inb-text")!.textContent).toBe('{"slept": 2.0}');
  });

  it("tells a failed run from a done run without a result", () => {
    const failed = render(askRun({ phase: "failed", status: "failed", error: "No functions available" }));
    const empty = render(askRun({ ...done, summary: "The search function failed." }));
    const failBox = failed.querySelector(".inb-box")!;
    const emptyBox = empty.querySelector(".inb-box")!;
    expect(failBox.className).toBe("inb-box inb-failed");
    expect(failBox.textContent).toBe("Failed: No functions available");
    expect(failBox.getAttribute("role")).toBe("alert");
    expect(emptyBox.className).toBe("inb-box inb-no-result");
    expect(emptyBox.textContent).toBe("No result: The search function failed.");
    expect(render(askRun({ phase: "cancelled", status: "Cancelled" })).textContent).toBe("Cancelled");
  });

  it("shows nothing for a run that has nothing yet, and re-renders only on change", () => {
    const view = new ResultsView();
    view.update(taskRun());
    expect(view.el.hidden).toBe(true);
    const run = taskRun({ summary: "halfway" });
    view.update(run);
    const p = view.el.firstElementChild;
    view.update({ ...run, status: "Uploading", timeline: [] });
    expect(view.el.firstElementChild).toBe(p);
    view.update(null);
    expect(view.el.hidden).toBe(true);
  });
});
