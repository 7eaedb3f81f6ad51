import { afterEach, describe, expect, it } from "vitest";
import { SchemaForm } from "./schema-form";
import { PICTURE_SCHEMA, type } from "../testing";

afterEach(() => document.body.replaceChildren());

function make(schema: Record<string, unknown> = PICTURE_SCHEMA, initial: Record<string, unknown> = {}) {
  const form = new SchemaForm(schema, initial);
  document.body.append(form.el);
  const control = <E extends HTMLElement = HTMLInputElement>(path: string) =>
    document.getElementById(form.el.querySelector<HTMLLabelElement>(`[data-field="${path}"] > label`)!.htmlFor) as E;
  const error = (path: string) => form.el.querySelector<HTMLElement>(`[data-field="${path}"] .inb-error`)!;
  const toggle = form.el.querySelector<HTMLInputElement>(".inb-toggle input")!;
  const raw = form.el.querySelector<HTMLTextAreaElement>(".inb-raw textarea")!;
  return { form, control, error, toggle, raw };
}

describe("generated form", () => {
  it("has one labelled control per field, of the field's kind, with defaults", () => {
    const { form, control } = make();
    const prompt = control<HTMLTextAreaElement>("prompt");
    expect(prompt.tagName).toBe("TEXTAREA");
    expect(prompt.getAttribute("aria-required")).toBe("true");
    expect(form.el.querySelector(`label[for="${prompt.id}"]`)!.textContent).toBe("Prompt *");
    const width = control("width");
    expect([width.type, width.value, width.min, width.max, width.step]).toEqual(["number", "512", "64", "1024", "1"]);
    expect(control("seed").placeholder).toBe("none");
    const style = control<HTMLSelectElement>("style");
    expect(Array.from(style.options).map((o) => o.textContent)).toEqual(["flat", "soft"]);
    expect(style.selectedOptions[0]!.textContent).toBe("flat");
    // The description and the bounds are help text tied to the control.
    const help = document.getElementById(width.getAttribute("aria-describedby")!.split(" ")[0]!)!;
    expect(help.textContent).toBe("(64 – 1024)");
  });

  it("reads typed values with their JSON types; empty nullable is null", () => {
    const { form, control } = make();
    type(control<HTMLTextAreaElement>("prompt"), "a sunset");
    type(control("width"), "640");
    type(control<HTMLSelectElement>("style"), "1");
    expect(form.collect()).toEqual({ value: { prompt: "a sunset", width: 640, seed: null, style: "soft" } });
  });

  it("refuses with the field's name and problem next to it, focusing the first", () => {
    const { form, control, error } = make();
    type(control("width"), "5000");
    expect(form.collect()).toEqual({ problem: "Prompt: required" });
    expect(error("prompt").textContent).toBe("Prompt: required");
    expect(error("width").textContent).toBe("Width: must be ≤ 1024");
    expect(control("width").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(control("prompt"));
    // Fixing a field clears its message as it is typed.
    type(control("width"), "1000");
    expect(error("width").hidden).toBe(true);
  });

  it("pre-fills from values given by the kernel", () => {
    const { control } = make(PICTURE_SCHEMA, { prompt: "night sky", seed: 7, style: "soft" });
    expect(control<HTMLTextAreaElement>("prompt").value).toBe("night sky");
    expect(control("seed").value).toBe("7");
    expect(control<HTMLSelectElement>("style").selectedOptions[0]!.textContent).toBe("soft");
    expect(control("width").value).toBe("512");
  });

  it("edits booleans with a checkbox and what it cannot express as JSON", () => {
    const schema = {
      properties: {
        loud: { type: "boolean", default: true },
        tags: { type: "array", items: { type: "string" }, default: ["a"] },
      },
    };
    const { form, control, error } = make(schema);
    expect(control("loud").checked).toBe(true);
    const tags = control<HTMLTextAreaElement>("tags");
    expect(tags.value).toBe('["a"]');
    type(tags, '["a", "b"');
    expect(form.collect()).toEqual({ problem: expect.stringMatching(/^Tags: line 1/) });
    expect(error("tags").textContent).toBe("Tags: line 1, column 10: Unexpected end: expected ',' or ']'");
    type(tags, '{"a": 1}');
    expect(form.collect()).toEqual({ problem: "Tags: must be a JSON array, not an object" });
    expect(error("tags").textContent).toBe("Tags: must be a JSON array, not an object");
    type(tags, '["x"]');
    control("loud").click();
    expect(form.collect()).toEqual({ value: { loud: false, tags: ["x"] } });
  });

  it("nests a model's fields ($ref) in a group", () => {
    const schema = {
      $defs: { Size: { type: "object", required: ["w"], properties: { w: { type: "integer", maximum: 10 } } } },
      required: ["size"],
      properties: { size: { $ref: "#/$defs/Size" } },
    };
    const { form, control, error } = make(schema, { size: { w: 3 } });
    expect(form.el.querySelector("fieldset legend")!.textContent).toBe("Size *");
    expect(control("size.w").value).toBe("3");
    type(control("size.w"), "11");
    expect("problem" in form.collect()).toBe(true);
    expect(error("size.w").textContent).toBe("W: must be ≤ 10");
    type(control("size.w"), "4");
    expect(form.collect()).toEqual({ value: { size: { w: 4 } } });
  });
});

describe("raw JSON toggle", () => {
  it("shows the form's values as JSON and takes edits back", () => {
    const { form, control, toggle, raw } = make();
    type(control<HTMLTextAreaElement>("prompt"), "a cat");
    toggle.click();
    expect(raw.closest<HTMLElement>(".inb-raw")!.hidden).toBe(false);
    expect(form.el.querySelector<HTMLElement>(".inb-fields")!.hidden).toBe(true);
    expect(JSON.parse(raw.value)).toEqual({ prompt: "a cat", width: 512, seed: null, style: "flat" });
    type(raw, '{"prompt": "a dog", "width": 100}');
    toggle.click();
    expect(toggle.checked).toBe(false);
    expect(control<HTMLTextAreaElement>("prompt").value).toBe("a dog");
    expect(control("width").value).toBe("100");
    expect(form.collect()).toEqual({ value: { prompt: "a dog", width: 100, seed: null, style: "flat" } });
  });

  it("stays raw when the JSON is broken or holds what the fields cannot", () => {
    const { form, toggle, raw } = make();
    toggle.click();
    type(raw, "[1]");
    toggle.click();
    expect(toggle.checked).toBe(true);
    const error = form.el.querySelector(".inb-raw .inb-error")!;
    expect(error.textContent).toBe("Input: must be a JSON object, not an array");
    type(raw, '{"prompt": "x", "colour": "red"}');
    toggle.click();
    expect(toggle.checked).toBe(true);
    expect(error.textContent).toContain('the form has no field "colour"');
    type(raw, '{"width": "wide"}');
    toggle.click();
    expect(error.textContent).toContain("width: must be a number");
    // Submitting raw sends the object as typed: the server judges unknown keys.
    type(raw, '{"prompt": "x", "colour": "red"}');
    expect(form.collect()).toEqual({ value: { prompt: "x", colour: "red" } });
    type(raw, '{"prompt": "x",}');
    expect("problem" in form.collect()).toBe(true);
    expect(error.textContent).toMatch(/^Input: line 1, column 16: Trailing comma/);
  });

  it("starts raw when the kernel's values do not fit the form, and when there are no fields", () => {
    const odd = make(PICTURE_SCHEMA, { prompt: "x", extra: [1] });
    expect(odd.toggle.checked).toBe(true);
    expect(JSON.parse(odd.raw.value)).toEqual({ prompt: "x", width: 512, seed: null, style: "flat", extra: [1] });
    const bare = make({ type: "object" }, { a: 1 });
    expect(bare.toggle.checked && bare.toggle.disabled).toBe(true);
    expect(bare.form.collect()).toEqual({ value: { a: 1 } });
  });

  it("shows a problem from the kernel next to the field it names", () => {
    const { form, error } = make();
    expect(form.showProblem("input.width", "must be ≤ 1024")).toBe("Width: must be ≤ 1024");
    expect(error("width").textContent).toBe("Width: must be ≤ 1024");
    expect(form.showProblem("nonsense", "x")).toBeNull();
  });
});
