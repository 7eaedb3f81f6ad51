// Asking the kernel whether Submit would take a field, while it is typed
// (docs/ARCHITECTURE.md, "One validator"): the kernel answers with Submit's own
// checks, so the form never calls valid what Submit then refuses.
import type { BrowserMessage, KernelMessage } from "../types";

/** A check before it gets its id. */
export type CheckRequest = BrowserMessage extends infer M ? (M extends { type: "check" } ? Omit<M, "id"> : never) : never;

export type CheckState =
  | { state: "checking" }
  | { state: "accepted" }
  | { state: "refused"; field: string | null; message: string }
  /** No answer in time: the kernel is busy or gone. */
  | { state: "unanswered" };

export type SendCheck = (request: CheckRequest, onReply: (reply: KernelMessage) => void) => void;

/** Typing pauses this long before the kernel is asked: one check per pause, not per key. */
export const CHECK_DELAY_MS = 300;
/** How long "checking…" waits for the kernel before saying it has not answered. */
export const CHECK_TIMEOUT_MS = 10_000;

/**
 * Debounced checks of one field: `schedule` reports "checking" at once, sends
 * after a pause, and reports the answer to the newest request only.
 */
export class RemoteCheck {
  private generation = 0;
  private delay: ReturnType<typeof setTimeout> | undefined;
  private timeout: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: SendCheck,
    private readonly report: (state: CheckState) => void,
  ) {}

  schedule(request: CheckRequest): void {
    this.cancel();
    const generation = this.generation;
    this.report({ state: "checking" });
    this.delay = setTimeout(() => {
      this.timeout = setTimeout(() => this.report({ state: "unanswered" }), CHECK_TIMEOUT_MS);
      this.send(request, (reply) => {
        if (generation !== this.generation) return; // an answer about older text
        clearTimeout(this.timeout);
        if (reply.type === "accepted") this.report({ state: "accepted" });
        else this.report({ state: "refused", field: reply.field, message: reply.message });
      });
    }, CHECK_DELAY_MS);
  }

  /** Forget the pending check: its answer, if one comes, is ignored. */
  cancel(): void {
    this.generation += 1;
    clearTimeout(this.delay);
    clearTimeout(this.timeout);
  }
}
