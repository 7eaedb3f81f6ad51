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
  return run.timeline.map((t) => ({ name: t.name, at: Date.parse(t.at) })).filter((t) => Number.isFinite(t.at));
}

/** One stay in a status: its name as the server wrote it, and how long it lasted (null: the run ended there). */
export interface Passage {
  name: string;
  ms: number | null;
}

/**
 * Each timeline entry in order with the time until the next one; a live run's
 * current status counts up to `now`, a finished run's last status has no duration.
 */
export function passages(run: RunView, now: number): Passage[] {
  const entries = times(run);
  return entries.map((entry, i) => {
    const next = entries[i + 1];
    const end = next ? next.at : isTerminal(run) ? null : Math.max(now, entry.at);
    return { name: entry.name, ms: end === null ? null : Math.max(0, end - entry.at) };
  });
}

/**
 * Time spent in each status (by folded name); a status passed twice (running,
 * paused, running) adds up. The status a live run is in counts up to `now`.
 */
export function stepDurations(run: RunView, now: number): Map<string, number> {
  const spent = new Map<string, number>();
  for (const { name, ms } of passages(run, now)) {
    if (ms !== null) spent.set(fold(name), (spent.get(fold(name)) ?? 0) + ms);
  }
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

/** "<1 ms", "3 ms", "850 ms", "2.1 s", "1 min 5 s", "2 h 3 min": statuses often pass in milliseconds. */
export function formatDuration(ms: number): string {
  if (ms < 0.5) return "<1 ms"; // it was there, however briefly: "0 ms" would read as never
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/** The local wall-clock time of an ISO 8601 instant, "14:03:21" ("" for a time that does not parse). */
export function formatClock(iso: string): string {
  const at = new Date(iso);
  if (!Number.isFinite(at.getTime())) return "";
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}
