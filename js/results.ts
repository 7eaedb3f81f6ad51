// The result area of the current run: summary, table preview, images, text;
// or why there is no result. A run that failed (it could not run) and a run
// that finished without a result are different things and must read so.
import type { ImageView, Preview, RunView } from "./types";
import { h } from "./dom";
import { tableActions } from "./table-actions";

export class ResultsView {
  readonly el = h("section", { class: "inb-results", "aria-label": "Result" });
  private shown: unknown[] = [];

  constructor() {
    this.el.hidden = true;
  }

  update(run: RunView | null): void {
    // Runs change several times a second while live; the result part rarely does. A new
    // preview or image list is a new object (run-store.ts), so identity tells a change.
    const parts = run ? [run.id, run.phase, run.summary, run.error, run.text, run.preview, run.images, run.planner] : [];
    if (parts.length === this.shown.length && parts.every((part, i) => part === this.shown[i])) return;
    this.shown = parts;
    const nodes = run ? resultNodes(run) : [];
    this.el.replaceChildren(...nodes);
    this.el.hidden = nodes.length === 0;
  }
}

function resultNodes(run: RunView): HTMLElement[] {
  const nodes = outcomeNodes(run);
  // Runs: who planned it, a model's name or "deterministic" (docs/ARCHITECTURE.md, "The model planner").
  if (run.planner && nodes.length) nodes.push(h("p", { class: "inb-planner" }, `Planned by ${run.planner}`));
  return nodes;
}

function outcomeNodes(run: RunView): HTMLElement[] {
  if (run.phase === "failed") {
    return [box("inb-failed", "Failed:", run.error ?? run.summary ?? "the server gave no reason")];
  }
  if (run.phase === "cancelled") {
    return [box("inb-cancelled", "Cancelled", run.summary ?? "")];
  }
  const hasResult = run.preview !== null || run.images.length > 0 || run.text !== null;
  if (run.phase === "succeeded" && !hasResult) {
    return [box("inb-no-result", "No result:", run.summary ?? "the run finished without one")];
  }
  const nodes: HTMLElement[] = [];
  if (run.summary) nodes.push(h("p", { class: "inb-summary" }, run.summary));
  if (run.preview) nodes.push(table(run.preview));
  if (run.images.length) nodes.push(h("div", { class: "inb-images" }, ...run.images.map(image)));
  if (run.text !== null) nodes.push(h("pre", { class: "inb-text" }, run.text));
  return nodes;
}

function box(kind: string, title: string, text: string): HTMLElement {
  return h("div", { class: `inb-box ${kind}`, role: kind === "inb-failed" ? "alert" : null },
    h("strong", {}, title), text ? ` ${text}` : "");
}

function table(preview: Preview): HTMLElement {
  const head = h("tr", {}, ...preview.columns.map((c) => h("th", { scope: "col" }, c)));
  const body = preview.rows.map((row) => h("tr", {}, ...preview.columns.map((_, i) => cell(row[i]))));
  const noun = preview.total === 1 ? "row" : "rows";
  return h("div", { class: "inb-preview" },
    h("div", { class: "inb-table-wrap", tabindex: 0, role: "region", "aria-label": "Result table" },
      h("table", { class: "inb-table" }, h("thead", {}, head), h("tbody", {}, ...body))),
    h("div", { class: "inb-table-foot" }, `showing ${preview.rows.length} of ${preview.total} ${noun}`, tableActions(preview)));
}

function cell(value: unknown): HTMLElement {
  if (value === null || value === undefined) return h("td", { class: "inb-null" }, "null");
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const numeric = typeof value === "number";
  // Long cells are cut short in the table; the hover title has all of it.
  return h("td", { class: numeric ? "inb-num" : null, title: text.length > 40 ? text : null }, text);
}

// The source is a blob: URL the run store made from the image's bytes.
function image(img: ImageView): HTMLElement {
  const name = img.filename ?? "";
  return h("figure", { class: "inb-figure" },
    h("img", { src: img.src, alt: name || "result image" }),
    name ? h("figcaption", {}, name) : null);
}
