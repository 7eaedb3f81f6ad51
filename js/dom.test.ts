import { describe, expect, it, vi } from "vitest";
import { h, syncKeyed } from "./dom";

describe("h", () => {
  it("puts strings in as text and skips absent attributes", () => {
    const hostile = "<img src=x onerror=alert(1)>";
    const el = h("div", { title: hostile, hidden: false, "data-x": null, open: true }, hostile, null, h("b", {}, "b"));
    expect(el.textContent).toBe(`${hostile}b`);
    expect(el.querySelector("img")).toBeNull();
    expect(el.getAttribute("title")).toBe(hostile);
    expect(el.hasAttribute("hidden") || el.hasAttribute("data-x")).toBe(false);
    expect(el.getAttribute("open")).toBe("");
  });
});

describe("syncKeyed", () => {
  it("reuses elements by key, reorders, adds and removes", () => {
    const list = h("ul");
    const render = (items: string[]) =>
      syncKeyed(list, items, (s) => s, () => h("li"), (node, s) => (node.textContent = s));
    render(["a", "b", "c"]);
    const [a, b] = Array.from(list.children);
    render(["b", "d", "a"]);
    expect(Array.from(list.children).map((n) => n.textContent)).toEqual(["b", "d", "a"]);
    expect(list.children[0]).toBe(b);
    expect(list.children[2]).toBe(a);
  });
});

describe("uniqueId", () => {
  it("differs between two evaluations of the module (anywidget loads it once per widget)", async () => {
    const first = await import("./dom");
    vi.resetModules();
    const second = await import("./dom");
    expect(second.uniqueId).not.toBe(first.uniqueId);
    const ids = [first.uniqueId("field"), second.uniqueId("field"), first.uniqueId("field"), second.uniqueId("field")];
    expect(new Set(ids).size).toBe(4);
    expect(ids.every((id) => /^inb-[a-z0-9]+-field-\d+$/.test(id))).toBe(true);
  });
});
