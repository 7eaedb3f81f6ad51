// From an app's input JSON Schema (as pydantic writes it) to the fields of a
// form. Pure: the DOM side is controls.ts.
import type { JSONSchema } from "../types";
import { isPlainObject } from "../json";
import { fieldLabel } from "./field-label";

export type FieldKind = "text" | "textarea" | "number" | "integer" | "boolean" | "select" | "object" | "file" | "json";

export interface FieldSpec {
  /** The property name. */
  name: string;
  /** Dotted from the top of the input ("options.size"): how messages name it. */
  path: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  /** Empty means null (the schema allows null). */
  nullable: boolean;
  description: string;
  hasDefault: boolean;
  default: unknown;
  /** The field's own schema, $refs resolved and the null branch removed. */
  schema: JSONSchema;
  /** "select": the values to choose from. */
  options: unknown[];
  /** "object": the nested fields. */
  fields: FieldSpec[];
}

// Deeper nesting (or a model that refers to itself) is edited as raw JSON.
const MAX_NESTING = 3;
const LONG_NAME = /(^|_)(prompt|query|message|text|csv|sql|body|content|instructions?)($|_)/i;
const LONG_DESCRIPTION = /\b(prompt|multi-?line|paragraphs?|csv|sql)\b/i;
const LONG_LENGTH = 200;

/** The fields of an object schema; [] when it is not one the form can show. */
export function fieldsOf(schema: JSONSchema, root: JSONSchema = schema, prefix = "", depth = 0): FieldSpec[] {
  const resolved = resolve(schema, root);
  const properties = resolved.properties;
  if (!isPlainObject(properties)) return [];
  const required = new Set(Array.isArray(resolved.required) ? resolved.required.map(String) : []);
  return Object.entries(properties).map(([name, raw]) =>
    fieldOf(name, isPlainObject(raw) ? raw : {}, root, prefix, required.has(name), depth),
  );
}

function fieldOf(name: string, raw: JSONSchema, root: JSONSchema, prefix: string, required: boolean, depth: number): FieldSpec {
  const outer = resolve(raw, root);
  const { schema, nullable, consts } = unwrap(outer, root);
  const path = prefix ? `${prefix}.${name}` : name;
  const spec: FieldSpec = {
    name,
    path,
    label: fieldLabel(name, outer.title),
    kind: "json",
    required,
    nullable,
    description: typeof outer.description === "string" ? outer.description : "",
    hasDefault: "default" in outer,
    default: outer.default,
    schema,
    options: [],
    fields: [],
  };
  const type = schema.type;
  if (isFileSchema(schema)) {
    spec.kind = "file";
  } else if (consts) {
    spec.kind = "select";
    spec.options = consts;
  } else if (type === "string") {
    spec.kind = isLong(name, spec.description, schema) ? "textarea" : "text";
  } else if (type === "number" || type === "integer") {
    spec.kind = type;
  } else if (type === "boolean") {
    // A checkbox has no third state for null.
    if (nullable) {
      spec.kind = "select";
      spec.options = [true, false];
    } else spec.kind = "boolean";
  } else if (type === "object" && !nullable && depth < MAX_NESTING) {
    spec.fields = fieldsOf(schema, root, path, depth + 1);
    if (spec.fields.length) spec.kind = "object";
  }
  return spec;
}

/**
 * Split a schema into its non-null part and whether null is allowed; also the
 * choices when it is an enum, a const, or a union of consts (pydantic's Literal).
 */
function unwrap(schema: JSONSchema, root: JSONSchema): { schema: JSONSchema; nullable: boolean; consts: unknown[] | null } {
  const branches = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null;
  if (branches) {
    const parts = branches.filter(isPlainObject).map((b) => resolve(b, root));
    const rest = parts.filter((b) => b.type !== "null");
    const nullable = rest.length < parts.length;
    const choices = rest.map(choicesOf);
    if (rest.length && choices.every((c) => c !== null)) {
      return { schema: rest[0]!, nullable, consts: dedupe(choices.flat()) };
    }
    if (rest.length === 1) {
      const inner = unwrap(rest[0]!, root);
      return { ...inner, nullable: nullable || inner.nullable };
    }
    return { schema: { ...schema }, nullable, consts: null };
  }
  let nullable = false;
  let type = schema.type;
  if (Array.isArray(type)) {
    const named = type.filter((t) => t !== "null");
    nullable = named.length < type.length;
    type = named.length === 1 ? named[0] : named;
  }
  const choices = choicesOf(schema);
  const withoutNull = choices?.filter((c) => c !== null) ?? null;
  if (choices && withoutNull && withoutNull.length < choices.length) nullable = true;
  return { schema: { ...schema, type }, nullable, consts: withoutNull };
}

/**
 * A file input (the server's `File`): marked `format: "file"` by our server;
 * a schema without the mark (another server) is known by pydantic's shape of
 * it, an object titled File with a `uri` property.
 */
export function isFileSchema(schema: JSONSchema): boolean {
  if (schema.format === "file") return true;
  const properties = schema.properties;
  return schema.title === "File" && isPlainObject(properties) && isPlainObject(properties.uri);
}

function choicesOf(schema: JSONSchema): unknown[] | null {
  if (Array.isArray(schema.enum)) return schema.enum;
  if ("const" in schema) return [schema.const];
  return null;
}

function dedupe(values: unknown[]): unknown[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isLong(name: string, description: string, schema: JSONSchema): boolean {
  const maxLength = schema.maxLength;
  if (typeof maxLength === "number" && maxLength > LONG_LENGTH) return true;
  return LONG_NAME.test(name) || LONG_DESCRIPTION.test(description);
}

/**
 * Follow local `$ref`s ("#/$defs/Name", "#/definitions/Name") and the
 * `allOf: [{$ref}]` wrapper older pydantic writes; keys beside the reference
 * (title, description, default) win over the target's.
 */
export function resolve(schema: JSONSchema, root: JSONSchema, seen: ReadonlySet<string> = new Set()): JSONSchema {
  const { $ref, allOf, ...siblings } = schema;
  if (typeof $ref === "string") {
    const target = lookup($ref, root);
    if (!target || seen.has($ref)) return siblings;
    return { ...resolve(target, root, new Set([...seen, $ref])), ...siblings };
  }
  if (Array.isArray(allOf) && allOf.length === 1 && isPlainObject(allOf[0])) {
    return { ...resolve(allOf[0], root, seen), ...siblings };
  }
  return schema;
}

function lookup(ref: string, root: JSONSchema): JSONSchema | null {
  if (!ref.startsWith("#/")) return null;
  let node: unknown = root;
  for (const part of ref.slice(2).split("/")) {
    const key = decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~");
    node = isPlainObject(node) ? node[key] : undefined;
  }
  return isPlainObject(node) ? node : null;
}
