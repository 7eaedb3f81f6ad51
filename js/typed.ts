// What the user typed is state (docs/ARCHITECTURE.md, "The widget": what is typed goes back
// to the kernel). The forms' contents go to the kernel in a `typed` message, debounced, and
// the controller thread sets the traits from it: `widget.message` and `widget.input` read
// them, and a reload or a saved notebook shows them again. The browser still sets no trait.
//
// The kernel's trait change then comes back to this view: an echo of what was sent, which
// may be older than what is in the box by now, so it is not written back into the form.
import type { TypedState as Typed } from "./types";

/** Which trait a field of `Typed` sets in the kernel. */
const TRAIT: Record<keyof Typed, string> = {
  mode: "mode", message: "message", schema_text: "schema_text", app: "app",
  input: "input_values", setup_text: "setup_text", session: "session",
};

/** Whether a trait's new value is only the echo of what this view sent. */
export type IsEcho = (trait: string, value: unknown) => boolean;

/** Typing pauses this long before the forms' contents go to the kernel. */
export const TYPED_DELAY_MS = 500;
/** How many values sent per trait are known as echoes (a fast typist's round trip). */
const REMEMBERED = 20;

export class TypedSync {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** JSON of the values sent, per trait, newest last. */
  private readonly sent = new Map<string, string[]>();
  /** The contents last sent (JSON per field), so that only changed fields travel. */
  private readonly last = new Map<keyof Typed, string>();

  /** `read` gives the forms' contents; `send` sends changed fields (false: not now, the kernel is not there). */
  constructor(
    private readonly read: () => Typed,
    private readonly send: (changed: Partial<Typed>) => boolean,
  ) {
    for (const [field, value] of Object.entries(read()) as [keyof Typed, unknown][]) this.last.set(field, JSON.stringify(value));
  }

  /** Send the forms' contents once typing pauses. */
  schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), TYPED_DELAY_MS);
  }

  /** Send what changed now. */
  flush(): void {
    clearTimeout(this.timer);
    const changed: Partial<Typed> = {};
    for (const [field, value] of Object.entries(this.read()) as [keyof Typed, unknown][]) {
      const json = JSON.stringify(value);
      if (this.last.get(field) === json) continue;
      (changed as Record<string, unknown>)[field] = value;
    }
    if (!Object.keys(changed).length || !this.send(changed)) return;
    for (const [field, value] of Object.entries(changed) as [keyof Typed, unknown][]) {
      const json = JSON.stringify(value);
      this.last.set(field, json);
      const sent = this.sent.get(TRAIT[field]) ?? [];
      sent.push(json);
      this.sent.set(TRAIT[field], sent.slice(-REMEMBERED));
    }
  }

  readonly isEcho: IsEcho = (trait, value) => this.sent.get(trait)?.includes(JSON.stringify(value)) ?? false;

  dispose(): void {
    clearTimeout(this.timer);
  }
}
