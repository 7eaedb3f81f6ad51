// What makes a form refuse to submit, as short problems ("must be ≤ 1024").
// The field's name is put in front where the problem is shown.
import type { JSONSchema } from "./types";
import type { FieldSpec } from "./forms/fields";
import { describeJSONError, isPlainObject, jsonKind, parseJSON } from "./json";

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * The Ask form's result schema as far as the browser judges it: "" for none, else
 * a JSON object. Whether it is a sound JSON Schema only the kernel says (a `check`
 * message, forms/remote-check.ts): two validators would disagree.
 */
export function checkSchemaText(text: string): Checked<JSONSchema | null> {
  if (!text.trim()) return { ok: true, value: null };
  const parsed = parseJSON(text);
  if (!parsed.ok) return { ok: false, problem: describeJSONError(parsed.error) };
  if (!isPlainObject(parsed.value)) return { ok: false, problem: `must be a JSON object, not ${jsonKind(parsed.value)}` };
  return { ok: true, value: parsed.value };
}

/** Setup parameters: "" for none, else a JSON object. */
export function checkSetupText(text: string): Checked<Record<string, unknown> | null> {
  if (!text.trim()) return { ok: true, value: null };
  const parsed = parseJSON(text);
  if (!parsed.ok) return { ok: false, problem: describeJSONError(parsed.error) };
  if (!isPlainObject(parsed.value)) return { ok: false, problem: `must be a JSON object, not ${jsonKind(parsed.value)}` };
  return { ok: true, value: parsed.value };
}

export function checkMessage(text: string): string | null {
  return text.trim() ? null : "write a question";
}

/** Whether `value` fits the field: null when it does, else the problem. */
export function checkValue(spec: FieldSpec, value: unknown): string | null {
  if (value === null) return spec.nullable ? null : "required";
  const s = spec.schema;
  switch (spec.kind) {
    case "text":
    case "textarea":
      return typeof value === "string" ? checkString(s, value) : `must be text, not ${jsonKind(value)}`;
    case "number":
    case "integer":
      if (typeof value !== "number" || !Number.isFinite(value)) return "must be a number";
      if (spec.kind === "integer" && !Number.isInteger(value)) return "must be a whole number";
      return checkRange(s, value);
    case "boolean":
      return typeof value === "boolean" ? null : `must be true or false, not ${jsonKind(value)}`;
    case "select": {
      const json = JSON.stringify(value);
      if (spec.options.some((o) => JSON.stringify(o) === json)) return null;
      return `must be one of: ${spec.options.map(optionText).join(", ")}`;
    }
    case "object":
      return isPlainObject(value) ? null : `must be a JSON object, not ${jsonKind(value)}`;
    case "file":
      // What a client sends is the file's URI; the server's {uri, ...} object is accepted too.
      if (typeof value === "string" || (isPlainObject(value) && typeof value.uri === "string")) return null;
      return `must be the URI of a file, not ${jsonKind(value)}`;
    case "json":
      if (s.type === "array" && !Array.isArray(value)) return `must be a JSON array, not ${jsonKind(value)}`;
      if (s.type === "object" && !isPlainObject(value)) return `must be a JSON object, not ${jsonKind(value)}`;
      return null;
  }
}

/** How an option value reads in a select and in messages. */
export function optionText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function checkString(s: JSONSchema, value: string): string | null {
  const length = Array.from(value).length;
  if (typeof s.minLength === "number" && length < s.minLength) {
    return s.minLength === 1 ? "required" : `at least ${s.minLength} characters`;
  }
  if (typeof s.maxLength === "number" && length > s.maxLength) return `at most ${s.maxLength} characters (now ${length})`;
  if (typeof s.pattern === "string" && !matches(s.pattern, value)) return `must match ${s.pattern}`;
  return null;
}

function matches(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, "u").test(value);
  } catch {
    return true; // a pattern this browser cannot compile is the server's to check
  }
}

function checkRange(s: JSONSchema, value: number): string | null {
  if (typeof s.minimum === "number" && value < s.minimum) return `must be ≥ ${s.minimum}`;
  if (typeof s.maximum === "number" && value > s.maximum) return `must be ≤ ${s.maximum}`;
  if (typeof s.exclusiveMinimum === "number" && value <= s.exclusiveMinimum) return `must be > ${s.exclusiveMinimum}`;
  if (typeof s.exclusiveMaximum === "number" && value >= s.exclusiveMaximum) return `must be < ${s.exclusiveMaximum}`;
  if (typeof s.multipleOf === "number" && s.multipleOf > 0) {
    const ratio = value / s.multipleOf;
    if (Math.abs(ratio - Math.round(ratio)) > 1e-9) return `must be a multiple of ${s.multipleOf}`;
  }
  return null;
}
