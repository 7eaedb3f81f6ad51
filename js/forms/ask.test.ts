import { afterEach, describe, expect, it, vi } from "vitest";
import { mount, type } from "../testing";
import { CHECK_DELAY_MS, CHECK_TIMEOUT_MS } from "./remote-check";

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

describe("Ask form", () => {
  it("is pre-filled from the traits", async () => {
    const { field } = await mount({ message: "How many apples?", schema_text: '{"type": "integer"}' });
    expect(field<HTMLTextAreaElement>("message").value).toBe("How many apples?");
    expect(field<HTMLTextAreaElement>("schema").value).toBe('{"type": "integer"}');
  });

  it("checks JSON syntax at once, and says nothing is valid before the kernel does", async () => {
    vi.useFakeTimers();
    const { field, $, sent, reply } = await mount();
    const editor = field<HTMLTextAreaElement>("schema");
    const status = $(".inb-check")!;
    const error = $('[data-field="schema"] .inb-error')!;
    expect(status.textContent).toBe("✓ no schema: the answer comes back as the server gives it");
    type(editor, '{"type": "object"\n "x": 1}');
    expect(error.textContent).toBe("Result schema: line 2, column 2: Expected ',' or '}' after a property value");
    expect(editor.getAttribute("aria-invalid")).toBe("true");
    expect(status.hidden).toBe(true);

    const broken = '{"type": "object", "required": "name"}';
    type(editor, broken);
    expect(error.hidden).toBe(true);
    expect(status.textContent).toBe("checking…");
    vi.advanceTimersByTime(CHECK_DELAY_MS);
    expect(sent()).toEqual([{ type: "check", id: expect.any(String), what: "schema", schema_text: broken }]);
    expect(status.textContent).toBe("checking…");
    reply({ type: "refused", field: "schema", message: 'schema: required must be a list of field names, not "name"' });
    expect(status.hidden).toBe(true);
    expect(error.textContent).toBe('Result schema: required must be a list of field names, not "name"');
    expect(editor.getAttribute("aria-invalid")).toBe("true");

    type(editor, '{"type": "object"}');
    vi.advanceTimersByTime(CHECK_DELAY_MS);
    reply({ type: "accepted", run_id: null });
    expect(error.hidden).toBe(true);
    expect(status.textContent).toBe("✓ valid JSON Schema");
  });

  it("asks once per pause in typing, and ignores an answer about older text", async () => {
    vi.useFakeTimers();
    const { field, $, sent, emit } = await mount();
    const editor = field<HTMLTextAreaElement>("schema");
    for (const text of ['{"type": "o', '{"type": "obj"}', '{"type": "object"}']) {
      type(editor, text);
      vi.advanceTimersByTime(CHECK_DELAY_MS - 1);
    }
    expect(sent()).toEqual([]);
    vi.advanceTimersByTime(1);
    const first = sent()[0]!;
    expect(first.schema_text).toBe('{"type": "object"}');
    type(editor, '{"type": "objet"}');
    emit("msg:custom", { type: "accepted", id: first.id, run_id: null });
    expect($(".inb-check")!.textContent).toBe("checking…");
  });

  it("says when the kernel does not answer a check", async () => {
    vi.useFakeTimers();
    const { field, $ } = await mount();
    type(field<HTMLTextAreaElement>("schema"), '{"type": "object"}');
    vi.advanceTimersByTime(CHECK_DELAY_MS + CHECK_TIMEOUT_MS);
    expect($(".inb-check")!.textContent).toBe("not checked yet: the kernel has not answered (busy or stopped?)");
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
    expect(document.querySelector('[data-field="schema"] .inb-error')!.textContent).toBe("Result schema: must be a JSON object, not an array");
  });
});
