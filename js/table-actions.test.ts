import { afterEach, describe, expect, it, vi } from "vitest";
import { rowsWord, tableActions, toCsv, toTsv } from "./table-actions";
import type { Preview } from "./types";

afterEach(() => {
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

const preview: Preview = {
  columns: ["name", "qty", "note"],
  rows: [["Claw Hammer", 83, 'says "hi", twice'], ["=HYPERLINK(\"x\")", null, "tab\there\nnew line"], ["Nut", -2, { a: 1 }]],
  total: 3,
};

describe("table actions", () => {
  it("writes CSV by RFC 4180, formulas kept as text, numbers as they are", () => {
    expect(toCsv(preview)).toBe(
      'name,qty,note\r\nClaw Hammer,83,"says ""hi"", twice"\r\n"\'=HYPERLINK(""x"")",,"tab\there\nnew line"\r\nNut,-2,"{""a"":1}"\r\n');
  });

  it("writes TSV with one line per row", () => {
    expect(toTsv(preview).split("\n")).toEqual(["name\tqty\tnote", 'Claw Hammer\t83\tsays "hi", twice', "'=HYPERLINK(\"x\")\t\ttab here new line", 'Nut\t-2\t{"a":1}', ""]);
  });

  it("says when it has only the preview's rows", () => {
    expect(rowsWord(preview)).toBe("all 3 rows");
    expect(rowsWord({ ...preview, total: 500 })).toBe("the 3 rows shown (of 500: the whole table is widget.df in the kernel)");
  });

  it("copies the TSV to the clipboard and says what it copied", async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const actions = tableActions({ ...preview, total: 40 });
    document.body.append(actions);
    actions.querySelector<HTMLButtonElement>("button")!.click();
    await vi.waitFor(() => expect(actions.querySelector(".inb-table-note")!.textContent).toMatch(/^Copied the 3 rows shown \(of 40/));
    expect(writeText).toHaveBeenCalledWith(toTsv(preview));
  });

  it("downloads the CSV as result.csv through a Blob link", async () => {
    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((blob: Blob) => (blobs.push(blob), "blob:test"));
    URL.revokeObjectURL = vi.fn();
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      expect([this.download, this.getAttribute("href")]).toEqual(["result.csv", "blob:test"]);
    });
    const actions = tableActions(preview);
    actions.querySelectorAll<HTMLButtonElement>("button")[1]!.click();
    expect(clicked).toHaveBeenCalledOnce();
    expect(await blobs[0]!.text()).toBe(toCsv(preview));
    expect(actions.querySelector(".inb-table-note")!.textContent).toBe("Downloaded all 3 rows as result.csv.");
  });
});
