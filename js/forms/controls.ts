// One form control per field of an app's input (kinds from fields.ts).
import { errorLine, h, named, setError, uniqueId } from "../dom";
import { describeJSONError, isPlainObject, parseJSON } from "../json";
import { checkValue, optionText } from "../validate";
import type { Control } from "./control";
import type { FieldSpec } from "./fields";
import { fileControl } from "./file-control";
import { helpLine, requiredMark } from "./labels";


export function createControls(specs: FieldSpec[]): Control[] {
  return specs.map((spec) =>
    spec.kind === "object" ? objectControl(spec) : spec.kind === "file" ? fileControl(spec) : leafControl(spec),
  );
}

type Input = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

function leafControl(spec: FieldSpec): Control {
  const id = uniqueId("field");
  const input = createInput(spec, id);
  const help = helpLine(spec);
  const error = errorLine();
  input.setAttribute("aria-describedby", [help?.id, error.id].filter(Boolean).join(" "));
  if (spec.required) input.setAttribute("aria-required", "true");
  const label = h("label", { class: "inb-label", for: id }, spec.label, requiredMark(spec));
  const el = h("div", { class: `inb-field inb-kind-${spec.kind}`, "data-field": spec.path }, label,
    h("div", { class: "inb-control" }, input, help, error));

  const control: Control = {
    spec,
    el,
    read: () => {
      const raw = readInput(spec, input);
      if ("problem" in raw) return { value: raw.value, problem: raw.problem };
      if (raw.value === undefined) {
        if (spec.nullable) return { value: null, problem: null };
        return { value: undefined, problem: spec.required ? "required" : null };
      }
      return { value: raw.value, problem: checkValue(spec, raw.value) };
    },
    accepts: (value) => (value === undefined || (value === null && spec.nullable) ? null : typeProblem(spec, value)),
    write: (value) => writeInput(spec, input, value === undefined ? spec.default : value),
    showProblem: (problem) => setError(error, input, problem === null ? null : named(spec.label, problem, spec.path)),
    leaves: () => [control],
    focus: () => input.focus(),
  };
  return control;
}

function objectControl(spec: FieldSpec): Control {
  const children = createControls(spec.fields);
  const help = helpLine(spec);
  const error = errorLine();
  const el = h("fieldset", { class: "inb-fieldset", "data-field": spec.path },
    h("legend", { class: "inb-label" }, spec.label, requiredMark(spec)), help, error, ...children.map((c) => c.el));
  const readAll = () => {
    const value: Record<string, unknown> = {};
    for (const child of children) {
      const read = child.read();
      if (read.value !== undefined) value[child.spec.name] = read.value;
    }
    return value;
  };
  const control: Control = {
    spec,
    el,
    read: () => {
      const value = readAll();
      const problem = children.map((c) => c.read().problem).find((p) => p !== null) ?? null;
      // An optional group left at its defaults stays out, like an optional field left empty.
      if (!spec.required && !spec.hasDefault && Object.keys(value).length === 0) return { value: undefined, problem };
      return { value, problem };
    },
    accepts: (value) => {
      if (value === undefined) return null;
      if (!isPlainObject(value)) return typeProblem(spec, value);
      const unknown = Object.keys(value).find((k) => !children.some((c) => c.spec.name === k));
      if (unknown !== undefined) return `has no field "${unknown}"`;
      return children.map((c) => c.accepts(value[c.spec.name])).find((p) => p !== null) ?? null;
    },
    write: (value) => {
      const given = isPlainObject(value) ? value : isPlainObject(spec.default) ? spec.default : {};
      for (const child of children) child.write(given[child.spec.name]);
    },
    showProblem: (problem) => setError(error, null, problem === null ? null : named(spec.label, problem, spec.path)),
    leaves: () => children.flatMap((c) => c.leaves()),
    focus: () => children[0]?.focus(),
  };
  return control;
}

// Short enough for a number box: empty means null ("none") or the key left out ("optional").
function placeholder(spec: FieldSpec): string | null {
  if (spec.nullable) return "none";
  return spec.required ? null : "optional";
}

function createInput(spec: FieldSpec, id: string): Input {
  const s = spec.schema;
  switch (spec.kind) {
    case "textarea":
      return h("textarea", { id, rows: 3, placeholder: placeholder(spec), maxlength: numberAttr(s.maxLength) });
    case "json":
      return h("textarea", { id, rows: 2, class: "inb-code", spellcheck: "false", placeholder: placeholder(spec) });
    case "number":
    case "integer":
      return h("input", {
        id, type: "number", placeholder: placeholder(spec),
        min: numberAttr(s.minimum), max: numberAttr(s.maximum),
        step: spec.kind === "integer" ? 1 : numberAttr(s.multipleOf) ?? "any",
      });
    case "boolean":
      return h("input", { id, type: "checkbox" });
    case "select": {
      const blank = spec.nullable || (!spec.required && !spec.hasDefault);
      const options = spec.options.map((o, i) => h("option", { value: String(i) }, optionText(o)));
      return h("select", { id }, blank ? h("option", { value: "" }, spec.nullable ? "— (none)" : "—") : null, ...options);
    }
    default:
      return h("input", { id, type: "text", placeholder: placeholder(spec), maxlength: numberAttr(s.maxLength) });
  }
}

function numberAttr(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

type RawRead = { value: unknown } | { value: unknown; problem: string };

function readInput(spec: FieldSpec, input: Input): RawRead {
  if (input instanceof HTMLInputElement && input.type === "checkbox") return { value: input.checked };
  const text = input.value;
  if (input instanceof HTMLSelectElement) return { value: text === "" ? undefined : spec.options[Number(text)] };
  if (spec.kind === "number" || spec.kind === "integer") {
    // A browser blanks .value of a number input holding "1e" or "-": that is not "empty".
    if (input instanceof HTMLInputElement && input.validity?.badInput) return { value: undefined, problem: "must be a number" };
    return { value: text.trim() === "" ? undefined : Number(text) };
  }
  if (spec.kind === "json") {
    if (!text.trim()) return { value: undefined };
    const parsed = parseJSON(text);
    return parsed.ok ? { value: parsed.value } : { value: text, problem: describeJSONError(parsed.error) };
  }
  return { value: text === "" ? undefined : text };
}

function writeInput(spec: FieldSpec, input: Input, value: unknown): void {
  if (input instanceof HTMLInputElement && input.type === "checkbox") {
    input.checked = value === true;
  } else if (input instanceof HTMLSelectElement) {
    const json = JSON.stringify(value);
    const index = spec.options.findIndex((o) => JSON.stringify(o) === json);
    input.value = index >= 0 ? String(index) : input.options[0]?.value ?? "";
  } else if (spec.kind === "json") {
    input.value = value === undefined || (value === null && spec.nullable) ? "" : JSON.stringify(value);
  } else {
    input.value = value === undefined || value === null ? "" : String(value);
  }
}

/** Only the type matters here: a value out of range is shown, then flagged on submit. */
function typeProblem(spec: FieldSpec, value: unknown): string | null {
  const problem = checkValue(spec, value);
  if (problem === null) return null;
  const sameType =
    (spec.kind === "number" || spec.kind === "integer") ? typeof value === "number" :
    spec.kind === "text" || spec.kind === "textarea" ? typeof value === "string" : false;
  return sameType ? null : problem;
}

export type { Control } from "./control";
