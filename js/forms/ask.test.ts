import { afterEach, describe, expect, it } from "vitest";
import { mount, type } from "../testing";

afterEach(() => document.body.replaceChildren());

describe("Ask form", () => {
  it("is pre-filled from the traits", async () => {
    const { field } = await mount({ message: "How many apples?", schema_text: '{"type": "integer"}' });
    expect(field<HTMLTextAreaElement>("message").value).toBe("How many apples?");
    expect(field<HTMLTextAreaElement>("schema").value).toBe('{"type": "integer"}');
  });

  it("validates the schema as it is typed, with a ✓ or the error under it", async () => {
    const { field, $ } = await mount();
    const editor = field<HTMLTextAreaElement>("schema");
    const ok = $(".inb-ok")!;
    const error = $('[data-field="schema"] .inb-error')!;
    expect(ok.textContent).toBe("✓ no schema: the answer comes back as text");
    type(editor, '{"type": "object",\n "properties": {"a": {"type": "strin"}}}');
    expect(ok.hidden).toBe(true);
    expect(error.textContent).toMatch(/^schema: properties\.a\.type: "strin" is not a JSON Schema type/);
    expect(editor.getAttribute("aria-invalid")).toBe("true");
    type(editor, '{"type": "object"\n "x": 1}');
    expect(error.textContent).toBe("schema: line 2, column 2: Expected ',' or '}' after a property value");
    type(editor, '{"type": "object"}');
    expect(error.hidden).toBe(true);
    expect(ok.textContent).toBe("✓ valid JSON Schema");
  });

  it("fills the editor from an example", async () => {
    const { field, $ } = await mount();
    const examples = $<HTMLSelectElement>('[data-field="schema"] select')!;
    expect(Array.from(examples.options).map((o) => o.textContent)).toEqual(["Examples…", "list of objects with name and qty"]);
    type(examples, "0");
    expect(JSON.parse(field<HTMLTextAreaElement>("schema").value).items.properties.qty).toEqual({ type: "integer" });
    expect(examples.value).toBe("");
  });

  it("shows a locked schema read-only, from a pydantic model", async () => {
    const { field, $, model } = await mount({ schema_text: '{"type": "object"}', schema_locked: true });
    expect(field<HTMLTextAreaElement>("schema").readOnly).toBe(true);
    expect($<HTMLSelectElement>('[data-field="schema"] select')!.disabled).toBe(true);
    expect($('[data-field="schema"] .inb-note')!.textContent).toBe("from a pydantic model");
    model.set("schema_locked", false);
    expect(field<HTMLTextAreaElement>("schema").readOnly).toBe(false);
    expect($('[data-field="schema"] .inb-note')!.hidden).toBe(true);
  });

  it("takes a new message or schema set from Python", async () => {
    const { field, model } = await mount();
    model.set("message", "new question");
    model.set("schema_text", "[]");
    expect(field<HTMLTextAreaElement>("message").value).toBe("new question");
    expect(document.querySelector('[data-field="schema"] .inb-error')!.textContent).toBe("schema: must be a JSON object, not an array");
  });
});
