// Test support (not bundled): a fake anywidget model, and realistic traits and
// run views for both protocols.
import { vi } from "vitest";
import type { RenderProps } from "@anywidget/types";
import widget from "./widget";
import type { ImagePayload, RunModelTraits, RunView, Step, WidgetTraits } from "./types";

type Handler = (...args: unknown[]) => void;
type ObjectHash = Record<string, any>;  // eslint-disable-line @typescript-eslint/no-explicit-any

/** Just enough of an anywidget model: traits, listeners by event name, a spy on send(), and
 * a widget manager that knows the child models in `children` (by model id). */
export function fakeModel<T extends ObjectHash = WidgetTraits>(traits: T, children = new Map<string, unknown>(), manager: Record<string, unknown> = {}) {
  const state = { ...traits };
  const listeners = new Map<string, Set<Handler>>();
  const emit = (event: string, ...args: unknown[]) => {
    for (const handler of listeners.get(event) ?? []) handler(...args);
  };
  const model = {
    get: <K extends keyof T>(key: K) => state[key],
    set: <K extends keyof T>(key: K, value: T[K]) => {
      state[key] = value;
      emit(`change:${String(key)}`);
    },
    on: (event: string, handler: Handler) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(handler);
    },
    off: (event: string, handler: Handler) => {
      listeners.get(event)?.delete(handler);
    },
    send: vi.fn(),
    save_changes: () => {},
    widget_manager: {
      ...manager,
      get_model: (id: string) => children.has(id) ? Promise.resolve(children.get(id)) : Promise.reject(new Error(`no model ${id}`)),
    },
  };
  const listenerCount = () => [...listeners.values()].reduce((n, set) => n + set.size, 0);
  const all = () => model.send.mock.calls.map(([msg]) => msg as Record<string, unknown>);
  /** The messages sent, but the form contents sent back while typing (`typed`: see `typedSent`). */
  const sent = () => all().filter((msg) => msg.type !== "typed");
  const typedSent = () => all().filter((msg) => msg.type === "typed");
  /** The kernel's answer to the last message sent (not counting `typed` ones). */
  const reply = (answer: Record<string, unknown>) => {
    const list = sent();
    const last = list[list.length - 1] as { id: string };
    emit("msg:custom", { id: last.id, ...answer });
  };
  return { model, emit, reply, sent, typedSent, listenerCount };
}

/** Let resolved promises (the widget manager's) run their callbacks. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();  // not a timer: tests may fake those
}

export type MountOptions = Partial<Omit<WidgetTraits, "runs">> & {
  /** The runs, as the views their child models hold (images as payloads, see `image`). */
  runs?: (RunView | RunWithImages)[];
  /** Whether a kernel answers the ping sent at render (false: a view restored from saved state). */
  kernel?: boolean;
  /** More of the widget manager (JupyterLab's exposes the notebook's `context.sessionContext`). */
  manager?: Record<string, unknown>;
};
export type RunWithImages = Omit<RunView, "images"> & { images: ImagePayload[] };

/** An image payload as the kernel sends it: bytes, media type, name. */
export function image(filename: string | null = "a.png", type = "image/png"): ImagePayload {
  return { data: new DataView(new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer), type, filename };
}

export async function mount({ runs = [], kernel = true, manager = {}, ...overrides }: MountOptions = {}) {
  const children = new Map<string, ReturnType<typeof fakeModel<RunModelTraits>>>();
  const registry = new Map<string, unknown>();
  const fake = fakeModel({ ...traits(), ...overrides }, registry, manager);
  const refs = () => [...children.keys()].map((id) => `IPY_MODEL_${id}`);
  /** Set the runs as the kernel does: a changed run's view (or images) on its own model, new runs as new models. */
  const setRuns = async (views: (RunView | RunWithImages)[]) => {
    for (const run of views) {
      const { images, ...view } = run;
      const child = children.get(run.id);
      if (!child) {
        const created = fakeModel<RunModelTraits>({ view, images: images as ImagePayload[] });
        children.set(run.id, created);
        registry.set(run.id, created.model);
        continue;
      }
      if (JSON.stringify(child.model.get("view")) !== JSON.stringify(view)) child.model.set("view", view);
      if (child.model.get("images") !== images) child.model.set("images", images as ImagePayload[]);
    }
    if (refs().join() !== fake.model.get("runs").join()) fake.model.set("runs", refs());
    await settle();
  };
  await setRuns(runs);
  const el = document.createElement("div");
  document.body.append(el);
  const props = { model: fake.model, el } as unknown as RenderProps<WidgetTraits>;
  const cleanup = await widget.render!(props);
  if (typeof cleanup !== "function") throw new Error("render must return a cleanup");
  await settle();
  if (kernel) {
    fake.reply({ type: "accepted", run_id: null });  // the ping
    fake.model.send.mockClear();
  }
  const $ = <E extends Element = HTMLElement>(selector: string) => el.querySelector<E>(selector);
  /** The control a field's label is for. */
  const field = <E extends HTMLElement = HTMLInputElement>(path: string) => {
    const label = el.querySelector<HTMLLabelElement>(`[data-field="${path}"] > label`)!;
    return document.getElementById(label.htmlFor) as E;
  };
  const button = (text: string) =>
    Array.from(el.querySelectorAll("button")).find((b) => b.textContent?.trim() === text)!;
  /** Every listener, on the widget's model and on its runs' models. */
  const listenerCount = () => fake.listenerCount() + [...children.values()].reduce((n, c) => n + c.listenerCount(), 0);
  return { ...fake, el, cleanup, $, field, button, setRuns, children, listenerCount };
}

/** Type into a control the way a person does: value, then input and change events. */
export function type(control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): void {
  control.value = value;
  control.dispatchEvent(new Event("input", { bubbles: true }));
  control.dispatchEvent(new Event("change", { bubbles: true }));
}

export const PICTURE_SCHEMA = {
  type: "object",
  title: "Input",
  required: ["prompt"],
  properties: {
    prompt: { type: "string", minLength: 1, maxLength: 2000, title: "Prompt", description: "What to draw." },
    width: { type: "integer", default: 512, minimum: 64, maximum: 1024, title: "Width" },
    seed: { anyOf: [{ type: "integer" }, { type: "null" }], default: null, title: "Seed" },
    style: { enum: ["flat", "soft"], default: "flat", type: "string", title: "Style" },
  },
};

export function traits(): WidgetTraits {
  return {
    mode: "ask",
    server: "embedded server",
    message: "",
    schema_text: "",
    schema_examples: [
      { label: "list of objects with name and qty", schema: { type: "array", items: { type: "object", properties: { name: { type: "string" }, qty: { type: "integer" } } } } },
    ],
    schema_locked: false,
    apps: [
      { id: "demo/picture@1.0.0", description: "Draws a picture.", input_schema: PICTURE_SCHEMA, setup_schema: null },
      { id: "demo/sleep@1.0.0", description: "Sleeps.", input_schema: { type: "object", properties: { seconds: { type: "number", default: 2 } } }, setup_schema: null },
    ],
    app: "demo/picture@1.0.0",
    input_values: {},
    setup_text: "",
    session: "none",
    last_session_id: null,
    runs: [],
    current: null,
  };
}

const TASK_NAMES = ["Received", "Queued", "Scheduled", "Preparing", "Serving", "Setting Up", "Running", "Uploading", "Completed", "Failed", "Cancelled"];
export const TASK_STEPS: Step[] = TASK_NAMES.map((name, i) => ({ name, code: i + 1, terminal: i >= 8 }));
export const RUN_STEPS: Step[] = ["pending", "running", "paused", "done", "failed"].map((name, i) => ({ name, code: name, terminal: i >= 3 }));

const T0 = Date.parse("2026-11-02T10:00:00.000Z");
/** A timeline: each name with its offset from T0 in ms. */
export function timeline(...entries: [string, number][]) {
  return entries.map(([name, ms]) => ({ name, at: new Date(T0 + ms).toISOString() }));
}
export const at = (ms: number) => T0 + ms;

export function taskRun(overrides: Partial<RunView> = {}): RunView {
  return {
    id: "task-1", kind: "task", label: "demo/picture@1.0.0", phase: "running", status: "Running", code: 7,
    steps: TASK_STEPS, timeline: timeline(["Received", 0], ["Queued", 300], ["Running", 2400]),
    jobs: [], input_requests: [], summary: null, error: null, preview: null, images: [], text: null,
    progress: null, input: null,
    ...overrides,
  };
}

export function askRun(overrides: Partial<RunView> = {}): RunView {
  return taskRun({
    id: "run-1", kind: "run", label: "How many items are in stock?", status: "running", code: "running",
    steps: RUN_STEPS, timeline: timeline(["pending", 0], ["running", 500]),
    ...overrides,
  });
}

/** jsdom has no blob: URLs: installs stand-ins that record what was made and revoked. */
export function stubBlobUrls() {
  const made: string[] = [];
  const revoked: string[] = [];
  URL.createObjectURL = (blob: Blob) => {
    const url = `blob:fake/${made.length + 1}-${blob.type}`;
    made.push(url);
    return url;
  };
  URL.revokeObjectURL = (url: string) => {
    revoked.push(url);
  };
  return { made, revoked };
}
