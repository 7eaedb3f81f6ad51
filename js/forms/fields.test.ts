import { describe, expect, it } from "vitest";
import { fieldsOf, resolve, type FieldSpec } from "./fields";

const byName = (fields: FieldSpec[]) => Object.fromEntries(fields.map((f) => [f.name, f]));

describe("fieldsOf", () => {
  it("gives each JSON type its kind, with label, description, default and required", () => {
    const f = byName(
      fieldsOf({
        type: "object",
        required: ["name"],
        properties: {
          name: { type: "string", title: "Name", description: "Who." },
          count: { type: "integer", default: 3 },
          ratio: { type: "number", minimum: 0 },
          loud: { type: "boolean", default: false },
        },
      }),
    );
    expect(f.name).toMatchObject({ kind: "text", label: "Name", description: "Who.", required: true, hasDefault: false, path: "name" });
    expect(f.count).toMatchObject({ kind: "integer", label: "Count", required: false, hasDefault: true, default: 3 });
    expect(f.ratio).toMatchObject({ kind: "number", nullable: false });
    expect(f.loud).toMatchObject({ kind: "boolean", default: false });
  });

  it("uses a textarea for long text: maxLength over 200 or a name that says so", () => {
    const f = byName(
      fieldsOf({
        properties: {
          title: { type: "string", maxLength: 200 },
          note: { type: "string", maxLength: 1000 },
          prompt: { type: "string" },
          sql_query: { type: "string" },
          csv: { anyOf: [{ type: "string" }, { type: "null" }] },
          label: { type: "string", description: "A multi-line note" },
        },
      }),
    );
    expect(f.title!.kind).toBe("text");
    expect(["note", "prompt", "sql_query", "csv", "label"].map((n) => f[n]!.kind)).toEqual(Array(5).fill("textarea"));
  });

  it("turns enum, const and unions of consts (pydantic's Literal) into choices", () => {
    const f = byName(
      fieldsOf({
        properties: {
          kind: { enum: ["line", "bar"], type: "string", default: "line" },
          fixed: { const: "v1" },
          lit: { anyOf: [{ const: "a" }, { const: "b" }, { enum: ["b", "c"] }] },
          maybe: { anyOf: [{ enum: ["x", "y"], type: "string" }, { type: "null" }], default: null },
          withNull: { enum: ["p", null] },
        },
      }),
    );
    expect(f.kind).toMatchObject({ kind: "select", options: ["line", "bar"], nullable: false });
    expect(f.fixed).toMatchObject({ kind: "select", options: ["v1"] });
    expect(f.lit).toMatchObject({ kind: "select", options: ["a", "b", "c"] });
    expect(f.maybe).toMatchObject({ kind: "select", options: ["x", "y"], nullable: true, default: null });
    expect(f.withNull).toMatchObject({ kind: "select", options: ["p"], nullable: true });
  });

  it("makes a field optional when null is allowed, keeping the branch's constraints", () => {
    const f = byName(
      fieldsOf({
        properties: {
          seed: { anyOf: [{ type: "integer", minimum: 0 }, { type: "null" }], default: null, title: "Seed" },
          note: { type: ["string", "null"] },
          flag: { anyOf: [{ type: "boolean" }, { type: "null" }] },
        },
      }),
    );
    expect(f.seed).toMatchObject({ kind: "integer", nullable: true, label: "Seed", schema: { type: "integer", minimum: 0 } });
    expect(f.note).toMatchObject({ kind: "text", nullable: true });
    // A checkbox cannot say null: a nullable boolean is a choice.
    expect(f.flag).toMatchObject({ kind: "select", options: [true, false], nullable: true });
  });

  it("resolves pydantic's $defs/$ref, for enums and nested models", () => {
    const schema = {
      $defs: {
        Color: { enum: ["red", "green"], type: "string", title: "Color" },
        Size: { type: "object", required: ["w"], properties: { w: { type: "integer" }, h: { type: "integer", default: 1 } } },
      },
      properties: {
        color: { $ref: "#/$defs/Color", default: "red", description: "Paint." },
        size: { $ref: "#/$defs/Size" },
        old: { allOf: [{ $ref: "#/$defs/Color" }], title: "Old style" },
      },
    };
    const f = byName(fieldsOf(schema));
    expect(f.color).toMatchObject({ kind: "select", options: ["red", "green"], default: "red", description: "Paint.", label: "Color" });
    expect(f.old).toMatchObject({ kind: "select", label: "Old style" });
    expect(f.size!.kind).toBe("object");
    expect(f.size!.fields.map((c) => [c.path, c.kind, c.required])).toEqual([
      ["size.w", "integer", true],
      ["size.h", "integer", false],
    ]);
  });

  it("falls back to raw JSON for what a form cannot express", () => {
    const schema = {
      $defs: { Node: { type: "object", properties: { next: { $ref: "#/$defs/Node" } } } },
      properties: {
        tags: { type: "array", items: { type: "string" } },
        extra: { type: "object", additionalProperties: { type: "number" } },
        either: { anyOf: [{ type: "integer" }, { type: "string" }] },
        anything: {},
        maybeObj: { anyOf: [{ type: "object", properties: { a: { type: "string" } } }, { type: "null" }] },
        chain: { $ref: "#/$defs/Node" },
      },
    };
    const f = byName(fieldsOf(schema));
    for (const name of ["tags", "extra", "either", "anything", "maybeObj"]) expect(f[name]!.kind, name).toBe("json");
    // A model that contains itself is nested a few levels, then raw JSON.
    let depth = 0;
    let node: FieldSpec | undefined = f.chain;
    while (node?.kind === "object") {
      depth += 1;
      node = node.fields[0];
    }
    expect(depth).toBe(3);
    expect(node!.kind).toBe("json");
  });

  it("knows a file field: the server's format mark, or pydantic's File shape from another server", () => {
    const file = (extra: Record<string, unknown>) => ({ title: "File", type: "object", properties: { uri: { type: "string" } }, ...extra });
    const f = byName(
      fieldsOf({
        $defs: { File: file({ format: "file" }), Doc: file({ title: "Doc", format: "file" }), Plain: file({}), Other: { ...file({}), title: "Other" } },
        required: ["doc"],
        properties: {
          csv_file: { anyOf: [{ $ref: "#/$defs/File" }, { type: "null" }], default: null },
          doc: { $ref: "#/$defs/Doc" },
          plain: { $ref: "#/$defs/Plain" },
          other: { $ref: "#/$defs/Other" },
        },
      }),
    );
    expect(f.csv_file).toMatchObject({ kind: "file", nullable: true, required: false });
    expect(f.doc).toMatchObject({ kind: "file", nullable: false, required: true });
    expect(f.plain!.kind).toBe("file");
    // An object with a uri that is not called File is only an object.
    expect(f.other!.kind).toBe("object");
  });

  it("has no fields for a schema that is not an object with properties", () => {
    expect(fieldsOf({ type: "array" })).toEqual([]);
    expect(fieldsOf({})).toEqual([]);
  });

  it("leaves dangling and remote $refs alone", () => {
    expect(resolve({ $ref: "#/$defs/Missing", title: "T" }, {})).toEqual({ title: "T" });
    expect(resolve({ $ref: "https://example.com/s.json" }, {})).toEqual({});
  });
});
