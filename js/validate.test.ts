import { describe, expect, it } from "vitest";
import { checkMessage, checkSchemaText, checkSetupText, checkValue } from "./validate";
import { fieldsOf } from "./forms/fields";
import { PICTURE_SCHEMA } from "./testing";

const problem = (result: { ok: boolean; problem?: string }) => (result.ok ? null : result.problem);

describe("schema editor", () => {
  it("accepts no schema and a valid one", () => {
    expect(checkSchemaText("  ")).toEqual({ ok: true, value: null });
    expect(checkSchemaText('{"type": "array", "items": {"type": ["string", "null"]}}').ok).toBe(true);
  });

  it("reports JSON syntax errors with line and column", () => {
    expect(problem(checkSchemaText('{\n  "type": "object"\n  "properties": {}\n}'))).toBe(
      "line 3, column 3: Expected ',' or '}' after a property value",
    );
  });

  it("wants an object", () => {
    expect(problem(checkSchemaText("[]"))).toBe("must be a JSON object, not an array");
    expect(problem(checkSchemaText("3"))).toBe("must be a JSON object, not a number");
  });

  it("leaves what the schema means to the kernel", () => {
    expect(checkSchemaText('{"type": "object", "required": "name"}').ok).toBe(true);
    expect(checkSchemaText('{"type": "strng"}').ok).toBe(true);
  });
});

describe("setup and message", () => {
  it("setup: empty or a JSON object", () => {
    expect(checkSetupText("")).toEqual({ ok: true, value: null });
    expect(checkSetupText('{"style": "soft"}')).toEqual({ ok: true, value: { style: "soft" } });
    expect(problem(checkSetupText("[1]"))).toBe("must be a JSON object, not an array");
    expect(problem(checkSetupText("{"))).toMatch(/^line 1, column 2: /);
  });

  it("message: needs words", () => {
    expect(checkMessage(" \n")).toBe("write a question");
    expect(checkMessage("How many?")).toBeNull();
  });
});

describe("checkValue", () => {
  const [prompt, width, seed, style] = fieldsOf(PICTURE_SCHEMA);

  it("checks strings", () => {
    expect(checkValue(prompt!, "a cat")).toBeNull();
    expect(checkValue(prompt!, "")).toBe("required");
    expect(checkValue(prompt!, "x".repeat(2001))).toBe("at most 2000 characters (now 2001)");
    expect(checkValue(prompt!, 3)).toBe("must be text, not a number");
  });

  it("checks numbers against their bounds", () => {
    expect(checkValue(width!, 1024)).toBeNull();
    expect(checkValue(width!, 2000)).toBe("must be ≤ 1024");
    expect(checkValue(width!, 10)).toBe("must be ≥ 64");
    expect(checkValue(width!, 100.5)).toBe("must be a whole number");
    expect(checkValue(width!, Number.NaN)).toBe("must be a number");
    expect(checkValue(width!, null)).toBe("required");
    expect(checkValue(seed!, null)).toBeNull();
  });

  it("checks choices", () => {
    expect(checkValue(style!, "soft")).toBeNull();
    expect(checkValue(style!, "loud")).toBe("must be one of: flat, soft");
  });
});
