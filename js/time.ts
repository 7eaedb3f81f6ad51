// Timings of a run from its timeline, and how they read.
import type { PhaseName, RunView } from "./types";

const TERMINAL: readonly PhaseName[] = ["succeeded", "failed", "cancelled"];

export function isTerminal(run: RunView): boolean {
  return TERMINAL.includes(run.phase);
}

/** Status names compare loosely: "Setting Up", "setting_up" and "SETTINGUP" are one status. */
export function fold(name: string): string {
  return name.replace(/[\s_-]/g, "").toLowerCase();
}

function times(run: RunView): { name: string; at: number }[] {
  return run.timeline.map((t) => ({ name: fold(t.name), at: Date.parse(t.at) })).filter((t) => Number.isFinite(t.at));
}

/**
 * Time spent in each status (by folded name), from one timeline entry to the
 * next; a status passed twice (running, paused, running) adds up. The status a
 * live run is in counts up to `now`.
 */
export function stepDurations(run: RunView, now: number): Map<string, number> {
  const entries = times(run);
  const spent = new Map<string, number>();
  entries.forEach((entry, i) => {
    const next = entries[i + 1];
    const end = next ? next.at : isTerminal(run) ? null : Math.max(now, entry.at);
    if (end !== null) spent.set(entry.name, (spent.get(entry.name) ?? 0) + Math.max(0, end - entry.at));
  });
  return spent;
}

/**
 * From the first timeline entry to the last (a finished run) or to now (a live
 * one). Never less than the timeline itself shows: the server's clock may run
 * ahead of the browser's.
 */
export function elapsedMs(run: RunView, now: number): number | null {
  const entries = times(run);
  const first = entries[0];
  const last = entries[entries.length - 1];
  if (!first || !last) return null;
  const known = last.at - first.at;
  return isTerminal(run) ? Math.max(0, known) : Math.max(0, known, now - first.at);
}

/** "0.3 s", "2.1 s", "1 min 5 s", "2 h 3 min". */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}
