// Copy and Download CSV for a table result. Both take the rows the widget holds:
// the preview (the kernel keeps the whole table, as widget.df), and say so when
// that is not every row.
import type { Preview } from "./types";
import { h } from "./dom";

/** Cells a spreadsheet would run as a formula; written with a leading ' so they stay text. */
const FORMULA_START = /^[=+\-@\t\r]/;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return typeof value === "string" && FORMULA_START.test(text) ? `'${text}` : text;
}

/** Tab-separated lines, header first; tabs and line breaks inside a cell become spaces. */
export function toTsv(preview: Preview): string {
  const line = (cells: unknown[]) => cells.map((c) => cellText(c).replace(/[\t\r\n]+/g, " ")).join("\t");
  return [line(preview.columns), ...preview.rows.map(line)].join("\n") + "\n";
}

/** RFC 4180 CSV, header first, CRLF line ends. */
export function toCsv(preview: Preview): string {
  const field = (value: unknown) => {
    const text = cellText(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const line = (cells: unknown[]) => cells.map(field).join(",");
  return [line(preview.columns), ...preview.rows.map(line)].join("\r\n") + "\r\n";
}

/** "the 20 rows shown (of 500: the whole table is widget.df in the kernel)", or "all 3 rows". */
export function rowsWord(preview: Preview): string {
  const n = preview.rows.length;
  if (n >= preview.total) return n === 1 ? "the 1 row" : `all ${n} rows`;
  return `the ${n} rows shown (of ${preview.total}: the whole table is widget.df in the kernel)`;
}

async function writeClipboard(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Refused (no permission, or a page served over plain http): the older way below may still work.
    }
  }
  const area = h("textarea", { "aria-hidden": "true", style: "position:fixed;opacity:0" });
  area.value = text;
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("the browser refused");
}

function download(text: string, filename: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the link; the object URL is only needed until then.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** The Copy and Download CSV buttons for `preview`, with a line saying what they did. */
export function tableActions(preview: Preview): HTMLElement {
  const note = h("span", { class: "inb-table-note", role: "status" });
  const copy = h("button", { type: "button", class: "inb-small", title: `Copy ${rowsWord(preview)} as tab-separated text` }, "Copy");
  const save = h("button", { type: "button", class: "inb-small", title: `Download ${rowsWord(preview)} as a CSV file` }, "Download CSV");
  copy.addEventListener("click", () => {
    writeClipboard(toTsv(preview)).then(
      () => (note.textContent = `Copied ${rowsWord(preview)}.`),
      (error: unknown) => (note.textContent = `Not copied: ${error instanceof Error ? error.message : String(error)}.`),
    );
  });
  save.addEventListener("click", () => {
    download(toCsv(preview), "result.csv");
    note.textContent = `Downloaded ${rowsWord(preview)} as result.csv.`;
  });
  return h("span", { class: "inb-table-actions" }, copy, save, note);
}
