import { afterEach, describe, expect, it, vi } from "vitest";
import { h } from "./dom";
import { keepKeys } from "./keys";

afterEach(() => document.body.replaceChildren());

function setup() {
  const readOnly = h("textarea", { readonly: true });
  const button = h("button", { type: "button" }, "Go");
  const root = h("div", {}, readOnly, button);
  document.body.append(root);
  const submit = vi.fn();
  keepKeys(root, submit);
  const reachedPage: string[] = [];
  const listener = (event: KeyboardEvent) => reachedPage.push(`${event.type} ${event.key}`);
  for (const type of ["keydown", "keyup", "keypress"] as const) document.addEventListener(type, listener);
  const press = (target: HTMLElement, key: string, init: KeyboardEventInit = {}) => {
    const events = ["keydown", "keypress", "keyup"].map((type) => new KeyboardEvent(type, { key, bubbles: true, cancelable: true, ...init }));
    for (const event of events) target.dispatchEvent(event);
    return events[0]!;
  };
  const stop = () => {
    for (const type of ["keydown", "keyup", "keypress"] as const) document.removeEventListener(type, listener);
  };
  return { readOnly, button, submit, reachedPage, press, stop };
}

describe("keepKeys", () => {
  it("lets no key from a read-only box or a button reach the page", () => {
    const { readOnly, button, reachedPage, press, submit, stop } = setup();
    for (const key of ["b", "x", "a", "d", "m", "Tab"]) press(readOnly, key);
    press(button, "b");
    stop();
    expect(reachedPage).toEqual([]);
    expect(submit).not.toHaveBeenCalled();
  });

  it("submits on Enter in a one-line box, not in a textarea, a select or with Shift", () => {
    const { press, submit, stop } = setup();
    const root = document.body.firstElementChild as HTMLElement;
    const text = h("input", { type: "text" });
    const number = h("input", { type: "number" });
    const box = h("textarea", {});
    const select = h("select", {});
    root.append(text, number, box, select);
    const enter = press(text, "Enter");
    press(number, "Enter");
    press(box, "Enter");
    press(select, "Enter");
    press(text, "Enter", { shiftKey: true });
    stop();
    expect(submit).toHaveBeenCalledTimes(2);
    expect(enter.defaultPrevented).toBe(true);
  });

  it("submits on Ctrl+Enter and Cmd+Enter, not on a plain Enter in a box of many lines", () => {
    const { readOnly, press, submit, stop } = setup();
    const ctrl = press(readOnly, "Enter", { ctrlKey: true });
    press(readOnly, "Enter", { metaKey: true });
    press(readOnly, "Enter");
    stop();
    expect(submit).toHaveBeenCalledTimes(2);
    expect(ctrl.defaultPrevented).toBe(true);
  });

  it("marks the focused control so that capture-phase shortcut handlers skip it", () => {
    const { button, stop } = setup();
    button.focus();
    stop();
    expect(button.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
  });
});
