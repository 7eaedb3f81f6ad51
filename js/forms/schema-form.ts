// An app's input form: fields generated from its JSON Schema, and a "Raw JSON"
// toggle that edits the same input as one JSON object. Whatever the fields
// cannot show (unknown keys, a value of another type) is edited raw.
import type { JSONSchema } from "../types";
import { errorLine, h, named, setError, uniqueId } from "../dom";
import { describeJSONError, isPlainObject, jsonKind, parseJSON } from "../json";
import { createControls, type Control } from "./controls";
import { fieldsOf } from "./fields";

export class SchemaForm {
  readonly el: HTMLElement;
  private readonly controls: Control[];
  private readonly leaves: Control[];
  private readonly fields: HTMLElement;
  private readonly toggle: HTMLInputElement;
  private readonly raw: HTMLTextAreaElement;
  private readonly rawError: HTMLElement;
  private readonly rawFiles: HTMLElement;

  /**
   * `onRawInput` gets the raw JSON input each time it is edited into a JSON object,
   * for the kernel to check against the app's schema (its refusal comes back through
   * `showProblem`, its acceptance through `kernelAccepted`).
   */
  constructor(
    schema: JSONSchema,
    initial: Record<string, unknown>,
    private readonly onRawInput: (value: Record<string, unknown>) => void = () => {},
  ) {
    this.controls = createControls(fieldsOf(schema));
    this.leaves = this.controls.flatMap((c) => c.leaves());
    this.fields = h("div", { class: "inb-fields" }, ...this.controls.map((c) => c.el));

    const toggleId = uniqueId("raw-toggle");
    const rawId = uniqueId("raw");
    this.toggle = h("input", { type: "checkbox", id: toggleId, "aria-controls": rawId });
    this.rawError = errorLine();
    this.raw = h("textarea", {
      id: rawId, class: "inb-code", rows: 6, spellcheck: "false",
      "aria-label": "Input as JSON", "aria-describedby": this.rawError.id,
    });
    this.rawFiles = h("div", { class: "inb-help" });
    this.rawFiles.hidden = true;
    const rawBox = h("div", { class: "inb-raw" }, this.raw, this.rawFiles, this.rawError);
    const noFields = this.controls.length === 0;
    const head = h("div", { class: "inb-form-head" },
      h("span", { class: "inb-section-title" }, "Input"),
      h("label", { class: "inb-toggle", for: toggleId }, this.toggle, " Raw JSON"),
      noFields ? h("span", { class: "inb-note" }, "this app's input is edited as JSON") : null,
    );
    this.el = h("div", { class: "inb-schema-form" }, head, this.fields, rawBox);

    this.toggle.addEventListener("change", () => this.switchTo(this.toggle.checked));
    this.el.addEventListener("input", (event) => this.recheck(event.target, false));
    this.el.addEventListener("change", (event) => this.recheck(event.target, true));

    const fits = isPlainObject(initial) && this.fitsFields(initial) === null;
    for (const control of this.controls) control.write(fits ? initial[control.spec.name] : undefined);
    if (noFields || !fits) {
      this.raw.value = pretty({ ...this.fieldValues(), ...initial });
      this.show(true);
    } else {
      this.show(false);
    }
    this.toggle.disabled = noFields;
  }

  /** The input as far as it can be read, problems or not. */
  values(): Record<string, unknown> {
    return this.toggle.checked ? this.rawValue() : this.fieldValues();
  }

  /**
   * The input to send, or the first problem ("Width: must be ≤ 1024") after showing each
   * next to its field (focus on the first).
   */
  collect(): { value: Record<string, unknown> } | { problem: string } {
    if (this.toggle.checked) {
      const problem = rawProblem(this.raw.value);
      const shown = this.showRaw(problem);
      if (shown !== null) {
        this.raw.focus();
        return { problem: shown };
      }
      return { value: this.rawValue() };
    }
    let first: { leaf: Control; problem: string } | null = null;
    for (const leaf of this.leaves) {
      const { problem } = leaf.read();
      leaf.showProblem(problem);
      if (problem !== null) first ??= { leaf, problem };
    }
    if (first) {
      first.leaf.focus();
      return { problem: named(first.leaf.spec.label, first.problem, first.leaf.spec.path) };
    }
    return { value: this.fieldValues() };
  }

  /**
   * The files chosen in file fields, by field path, to send with the submit.
   * Raw JSON sends none: it is the whole input as written.
   */
  files(): Map<string, File> {
    const chosen = new Map<string, File>();
    if (this.toggle.checked) return chosen;
    for (const leaf of this.leaves) {
      const file = leaf.file?.() ?? null;
      if (file) chosen.set(leaf.spec.path, file);
    }
    return chosen;
  }

  /** Show a problem the kernel found: the text shown, or null when no field has that name. */
  showProblem(field: string, message: string): string | null {
    const path = field.replace(/^input\./, "");
    if (path === "input" || this.toggle.checked) return this.showRaw(message, path === "input" ? "input" : `input.${path}`);
    const control = [...this.controls, ...this.leaves].find((c) => c.spec.path === path);
    if (!control) return null;
    control.showProblem(message);
    control.focus();
    return named(control.spec.label, message, control.spec.path);
  }

  /** The kernel took the raw input as it is now: a problem it found before is gone. */
  kernelAccepted(): void {
    if (this.toggle.checked && rawProblem(this.raw.value) === null) this.showRaw(null);
  }

  private fieldValues(): Record<string, unknown> {
    const value: Record<string, unknown> = {};
    for (const control of this.controls) {
      const read = control.read();
      if (read.value !== undefined) value[control.spec.name] = read.value;
    }
    return value;
  }

  private rawValue(): Record<string, unknown> {
    const parsed = parseJSON(this.raw.value);
    return parsed.ok && isPlainObject(parsed.value) ? parsed.value : {};
  }

  // Called after the checkbox has changed: read the side being left explicitly.
  private switchTo(raw: boolean): void {
    if (raw) {
      this.raw.value = pretty(this.fieldValues());
      this.showRaw(null);
      this.show(true);
      return;
    }
    const problem = rawProblem(this.raw.value) ?? this.fitsFields(this.rawValue());
    if (problem !== null) {
      // Stay raw rather than drop what the fields cannot hold.
      this.toggle.checked = true;
      this.showRaw(problem);
      return;
    }
    const value = this.rawValue();
    for (const control of this.controls) control.write(value[control.spec.name]);
    for (const leaf of this.leaves) leaf.showProblem(null);
    this.show(false);
  }

  private show(raw: boolean): void {
    const names = raw ? this.leaves.map((c) => c.file?.()?.name).filter(Boolean) : [];
    this.rawFiles.textContent = names.length
      ? `Not sent from Raw JSON: the chosen file ${names.join(", ")}. Switch back to the fields to send it, or give a URI here.`
      : "";
    this.rawFiles.hidden = !names.length;
    this.toggle.checked = raw;
    this.fields.hidden = raw;
    (this.raw.parentElement as HTMLElement).hidden = !raw;
  }

  /** Show (or clear) the raw box's problem, named "Input" or the kernel's field ("input.width"); returns what is shown. */
  private showRaw(problem: string | null, path = "input"): string | null {
    const shown = problem === null ? null : path === "input" ? named("Input", problem, "input") : named(path, problem);
    setError(this.rawError, this.raw, shown);
    return shown;
  }

  /** Null when every key of `value` has a field that can show it. */
  private fitsFields(value: Record<string, unknown>): string | null {
    for (const key of Object.keys(value)) {
      if (!this.controls.some((c) => c.spec.name === key)) return `the form has no field "${key}"; keep editing it as JSON`;
    }
    for (const control of this.controls) {
      const problem = control.accepts(value[control.spec.name]);
      if (problem !== null) return `${control.spec.path}: ${problem}; keep editing it as JSON`;
    }
    return null;
  }

  // Feedback while typing, only where a problem is already shown or the edit is
  // committed: a field should not turn red before anyone has finished typing it.
  private recheck(target: EventTarget | null, committed: boolean): void {
    if (!(target instanceof Node) || target === this.toggle) return;
    if (target === this.raw) {
      // Checked as typed, like the Ask form's schema: a JSON slip shows at once.
      const problem = rawProblem(this.raw.value);
      if (problem !== null) {
        this.showRaw(problem);
        return;
      }
      // Leaving the box (change) keeps the kernel's problem with this very text: clearing
      // it on blur would move the Submit button from under a click on it.
      if (!committed) {
        this.showRaw(null);
        this.onRawInput(this.rawValue());
      }
      return;
    }
    const leaf = this.leaves.find((c) => c.el.contains(target));
    if (!leaf) return;
    const showing = leaf.el.querySelector("[aria-invalid]") !== null;
    if (committed || showing) leaf.showProblem(leaf.read().problem);
  }
}

function rawProblem(text: string): string | null {
  const parsed = parseJSON(text.trim() ? text : "{}");
  if (!parsed.ok) return describeJSONError(parsed.error);
  return isPlainObject(parsed.value) ? null : `must be a JSON object, not ${jsonKind(parsed.value)}`;
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
