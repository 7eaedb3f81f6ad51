// What the Ask and App panels share: their interface to the widget and the
// layout of one labelled row.
import { errorLine, h, named, setError, uniqueId } from "../dom";
import type { SubmitRequest } from "../messages";

/** What Submit sends: the request, and the files whose bytes go with it (buffer i is blobs[i]). */
export interface Submission {
  request: SubmitRequest;
  blobs: Blob[];
}

/** Why Submit sends nothing: the first bad field's problem, named by its label ("Width: must be ≤ 1024"). */
export interface Refusal {
  problem: string;
}

export interface Panel {
  readonly el: HTMLElement;
  /** What to submit, or the first problem after showing every problem next to its field. */
  collect(): Submission | Refusal;
  /** Show a refusal next to `field`: the text shown, or null when this panel has no such field. */
  showProblem(field: string, message: string): string | null;
  destroy(): void;
}

type Labelled = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

export interface Row {
  el: HTMLElement;
  /** Show "Label: problem" under the control, or clear it with null; returns what is shown. */
  problem(problem: string | null): string | null;
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
    problem: (problem) => {
      const shown = problem === null ? null : named(label, problem, name);
      setError(error, control, shown);
      return shown;
    },
  };
}
