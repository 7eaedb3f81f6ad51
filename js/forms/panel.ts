// What the Ask and App panels share: their interface to the widget and the
// layout of one labelled row.
import { errorLine, h, named, setError, uniqueId } from "../dom";
import type { SubmitRequest } from "../messages";

/** What Submit sends: the request, and the files whose bytes go with it (buffer i is blobs[i]). */
export interface Submission {
  request: SubmitRequest;
  blobs: Blob[];
}

export interface Panel {
  readonly el: HTMLElement;
  /** What to submit, or null after showing what is wrong next to it. */
  collect(): Submission | null;
  /** Show a refusal next to `field`; false when this panel has no such field. */
  showProblem(field: string, message: string): boolean;
  destroy(): void;
}

type Labelled = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

export interface Row {
  el: HTMLElement;
  /** Show "name: problem" under the control, or clear it with null. */
  problem(problem: string | null): void;
}

/**
 * A label, a control, notes under it and an error line, all tied by ids;
 * `above` goes over the control (a toolbar).
 */
export function row(name: string, label: string, control: Labelled, notes: HTMLElement[] = [], above?: HTMLElement): Row {
  control.id ||= uniqueId(name);
  const error = errorLine();
  for (const note of notes) note.id ||= uniqueId("note");
  control.setAttribute("aria-describedby", [...notes.map((n) => n.id), error.id].join(" "));
  const el = h("div", { class: "inb-field", "data-field": name },
    h("label", { class: "inb-label", for: control.id }, label),
    h("div", { class: "inb-control" }, above, control, ...notes, error));
  return {
    el,
    problem: (problem) => setError(error, control, problem === null ? null : named(name, problem)),
  };
}
