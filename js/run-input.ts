// A run's input as the history shows and reuses it: a one-line summary, the app
// of this server it belongs to, and the submit request that runs it again.
import type { AppInfo, RunInput } from "./types";
import type { SubmitRequest } from "./messages";
import { fieldsOf } from "./forms/fields";

/** How long a history line's summary may get. */
export const SUMMARY_CHARS = 80;

/**
 * "How many hammers…" or "demo/sleep: seconds=3, message=done", one line, capped. Values that
 * say nothing are left out: nulls, and values equal to the field's default in `app`'s schema.
 */
export function inputSummary(input: RunInput | null, fallback: string, app?: AppInfo): string {
  if (!input) return capped(oneLine(fallback));
  if (input.kind === "ask") return capped(oneLine(input.message));
  const defaults = new Map(fieldsOf(app?.input_schema ?? {}).filter((f) => f.hasDefault).map((f) => [f.name, JSON.stringify(f.default)]));
  const fields = Object.entries(input.values)
    .filter(([key, value]) => value !== null && defaults.get(key) !== JSON.stringify(value))
    .map(([key, value]) => `${key}=${shownValue(value)}`);
  return capped(oneLine(fields.length ? `${appName(input.app)}: ${fields.join(", ")}` : appName(input.app)));
}

function shownValue(value: unknown): string {
  // Plain words read better without quotes; an empty string needs them to be seen.
  if (typeof value === "string") return value === "" ? '""' : value;
  return JSON.stringify(value) ?? String(value);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function capped(text: string): string {
  return text.length <= SUMMARY_CHARS ? text : `${text.slice(0, SUMMARY_CHARS - 1)}…`;
}

/** "demo/sleep@1.0.0" → "demo/sleep". */
export function appName(id: string): string {
  return id.split("@")[0] ?? id;
}

/** The app of this server a run's app id names: the same id, else the same app in another version. */
export function matchApp(apps: readonly AppInfo[], id: string): AppInfo | undefined {
  return apps.find((a) => a.id === id) ?? apps.find((a) => appName(a.id) === appName(id));
}

/** The submit that runs the same input again (a fresh run: no setup, no session). */
export function rerunRequest(input: RunInput): SubmitRequest {
  if (input.kind === "ask") {
    return { type: "submit", mode: "ask", message: input.message, schema_text: schemaText(input) };
  }
  return { type: "submit", mode: "app", app: input.app, input: structuredClone(input.values), setup_text: "", session: "none" };
}

/** The schema as the Ask form's editor shows it ("" for none). */
export function schemaText(input: Extract<RunInput, { kind: "ask" }>): string {
  return input.schema ? JSON.stringify(input.schema, null, 2) : "";
}
