import { describe, expect, it } from "vitest";
import { describeJSONError, jsonKind, parseJSON } from "./json";

function problem(text: string): string {
  const result = parseJSON(text);
  if (result.ok) throw new Error(`parsed: ${text}`);
  return describeJSONError(result.error);
}

describe("parseJSON", () => {
  it("gives the same value as JSON.parse for valid JSON", () => {
    const text = '{"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"], "b": {}}';
    expect(parseJSON(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it("names line and column of a missing comma", () => {
    expect(problem('{\n  "a": 1\n  "b": 2\n}')).toBe("line 3, column 3: Expected ',' or '}' after a property value");
    expect(problem("[1 2]")).toBe("line 1, column 4: Expected ',' or ']' after an item");
  });

  it("explains the usual mistakes", () => {
    expect(problem('{"a": 1,}')).toBe("line 1, column 9: Trailing comma: JSON allows no ',' before '}'");
    expect(problem("[1,]")).toContain("Trailing comma");
    expect(problem("{'a': 1}")).toContain("Property names need double quotes");
    expect(problem('{"a": None}')).toBe("line 1, column 7: Write null, not None");
    expect(problem("[True]")).toContain("Write true, not True");
    expect(problem('{"a" 1}')).toContain("Expected ':' after the property name");
    expect(problem('{"a": "x')).toBe("line 1, column 7: Unterminated string");
    expect(problem('"a\nb"')).toContain("Line break inside a string");
    expect(problem('"\\x"')).toContain("Bad escape");
    expect(problem('"\\u12"')).toContain("Bad \\u escape");
    expect(problem("01")).toContain("Bad number");
    expect(problem("1.")).toContain("Bad number");
    expect(problem("{} x")).toBe("line 1, column 4: Unexpected text after the JSON value");
    expect(problem("  ")).toContain("empty");
    expect(problem('{"a": ')).toContain("Unexpected end");
    expect(problem("{")).toContain("Unexpected end");
    expect(problem("[1")).toContain("Unexpected end: expected ',' or ']'");
    expect(problem("@")).toContain("Unexpected '@'");
  });

  it("refuses absurd nesting instead of overflowing the stack", () => {
    expect(problem("[".repeat(10_000))).toContain("nested too deeply");
  });

  it("names the kind of a value", () => {
    expect([null, [], {}, true, 1, "s"].map(jsonKind)).toEqual(["null", "an array", "an object", "true/false", "a number", "a string"]);
  });
});
