import type { FieldSpec } from "./fields";

export interface Control {
  readonly spec: FieldSpec;
  readonly el: HTMLElement;
  /**
   * The value to send (undefined: leave the key out) and what is wrong with it.
   * The value is a best effort even when there is a problem, so that switching
   * to raw JSON keeps what was typed.
   */
  read(): { value: unknown; problem: string | null };
  /** Whether `value` can be shown here (undefined: the default): null when it can. */
  accepts(value: unknown): string | null;
  /** Show `value`; undefined shows the default, or nothing. */
  write(value: unknown): void;
  /** Show a problem next to the control (null clears it). */
  showProblem(problem: string | null): void;
  /** The controls that hold values: this one, or the ones inside a group. */
  leaves(): Control[];
  focus(): void;
  /** A file field: the file chosen to be uploaded on submit (null: none, the URI box counts). */
  file?(): File | null;
}
