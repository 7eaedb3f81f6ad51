// The app's own progress during Running (`ctx.progress` on the server): a bar,
// determinate when the app knows its total, and "3 / 10 · message".
import type { ProgressView } from "./types";
import { h } from "./dom";

/** "3 / 10 · step 3", "2.5 / 4", "7 · reading" (no total known). */
export function progressText(progress: ProgressView): string {
  const count = progress.total === null ? number(progress.done) : `${number(progress.done)} / ${number(progress.total)}`;
  return progress.message ? `${count} · ${progress.message}` : count;
}

function number(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}

export class ProgressLine {
  readonly el: HTMLElement;
  private readonly bar = h("progress", { class: "inb-progress-bar", "aria-label": "App progress" });
  private readonly text = h("span", { class: "inb-progress-text" });

  constructor() {
    this.el = h("div", { class: "inb-progress" }, this.bar, this.text);
    this.el.hidden = true;
  }

  update(progress: ProgressView | null): void {
    this.el.hidden = progress === null;
    if (!progress) return;
    if (progress.total === null) {
      this.bar.removeAttribute("value"); // indeterminate: the app does not know how far it is
    } else {
      this.bar.max = progress.total;
      this.bar.value = Math.min(progress.done, progress.total);
    }
    this.bar.setAttribute("aria-valuetext", progressText(progress));
    this.text.textContent = progressText(progress);
  }
}
