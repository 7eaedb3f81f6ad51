import { describe, expect, it } from "vitest";
import { inOrder } from "./key-order";

describe("key order", () => {
  it("rebuilds each object named in key_order in that order, and drops key_order", () => {
    // As a saved notebook holds it: keys sorted.
    const saved = {
      id: "demo/picture@1.0.0",
      input_schema: { properties: { height: {}, prompt: {}, seed: {}, width: {} }, type: "object" },
      key_order: { "/input_schema/properties": ["prompt", "width", "height", "seed"], "/input_schema": ["type", "properties"] },
    };
    const ordered = inOrder(saved);
    expect(Object.keys(ordered.input_schema.properties)).toEqual(["prompt", "width", "height", "seed"]);
    expect(Object.keys(ordered.input_schema)).toEqual(["type", "properties"]);
    expect("key_order" in ordered).toBe(false);
    expect(Object.keys(saved.input_schema.properties)[0]).toBe("height");  // the original is left alone
  });

  it("keeps keys the order does not name, and skips pointers to nothing", () => {
    const ordered = inOrder({ values: { b: 1, a: 2, c: 3 }, key_order: { "/values": ["c", "a"], "/nothing/here": ["x"] } });
    expect(Object.keys(ordered.values)).toEqual(["c", "a", "b"]);
  });

  it("leaves data without key_order as it is", () => {
    const value = { a: 1 };
    expect(inOrder(value)).toBe(value);
  });
});
