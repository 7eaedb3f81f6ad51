// Is a kernel object behind this view? A widget restored from a saved notebook looks
// exactly like a live one, but nothing answers its messages (docs/ARCHITECTURE.md,
// "The widget"). One ping at render tells: no answer in time means a read-only snapshot.
import { h } from "./dom";
import type { Messenger } from "./messages";

/** How long the ping may go unanswered before the view counts as a saved snapshot. */
export const PING_TIMEOUT_MS = 2_000;

/** The line that marks a snapshot (hidden while live). */
export function snapshotNote(): HTMLElement {
  return h("p", { class: "inb-snapshot-note", role: "note", hidden: true },
    h("strong", {}, "Saved view"), " — re-run the cell to use it.");
}

/**
 * Ping the kernel; `onChange(true)` when no answer came in time, `onChange(false)` when
 * a late answer comes after that (the kernel was only busy). Returns the way to stop.
 */
export function watchKernel(messenger: Messenger, onChange: (snapshot: boolean) => void): () => void {
  let snapshot = false;
  const timer = setTimeout(() => {
    snapshot = true;
    onChange(true);
  }, PING_TIMEOUT_MS);
  try {
    messenger.send({ type: "ping" }, () => {
      clearTimeout(timer);
      if (snapshot) onChange(false);
      snapshot = false;
    });
  } catch {
    // No comm at all: certainly nobody to answer.
    clearTimeout(timer);
    snapshot = true;
    onChange(true);
  }
  return () => clearTimeout(timer);
}
