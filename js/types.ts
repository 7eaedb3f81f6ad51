// The contract between the kernel (inference_nb/widget.py) and this front end.
// Keep it in step with the Python side: a renamed trait fails silently otherwise.
// Every trait is set by the kernel only; the browser speaks through custom
// messages (docs/ARCHITECTURE.md, "The widget": synced input traits race with the kernel's writes).

export type JSONSchema = Record<string, unknown>;

/** The synced traits of `inference_nb.widget.InferenceWidget`. */
export interface WidgetTraits {
  /** Which form shows first. */
  mode: "ask" | "app";
  /** Where runs go, for people: "embedded server" or a base URL. Never a key. */
  server: string;
  /** Ask: the question, pre-filled. */
  message: string;
  /** Ask: the result schema as JSON text, pre-filled ("" for none). */
  schema_text: string;
  /** Ask: ready schemas to pick from. */
  schema_examples: SchemaExample[];
  /** Ask: the schema came from a pydantic model; shown, not edited. */
  schema_locked: boolean;
  /** App: the server's apps with their schemas. Not a trait of its own: the shared value `_shared.apps`, read as one (js/loader.ts). */
  apps: AppInfo[];
  /** App: the app selected at first. */
  app: string;
  /** App: input values to pre-fill, by field name. */
  input_values: Record<string, unknown>;
  /** App: setup parameters as JSON text, pre-filled. */
  setup_text: string;
  /** App: the session choice at first. */
  session: SessionChoice;
  /** App: the session the "continue" choice continues, if any. */
  last_session_id: string | null;
  /**
   * Every run started from this widget, oldest first: references ("IPY_MODEL_<id>") to one
   * child model per run (`RunModelTraits`), so a change sends only that run's changed trait.
   */
  runs: string[];
  /** The run shown in the result area. */
  current: string | null;
}

export type SessionChoice = "none" | "new" | "last";

/** The forms' contents, as a `typed` message carries them; each sets the trait of its name (`input`: `input_values`). */
export interface TypedState {
  mode: "ask" | "app";
  message: string;
  schema_text: string;
  app: string;
  input: Record<string, unknown>;
  setup_text: string;
  session: SessionChoice;
}

export interface SchemaExample {
  label: string;
  schema: JSONSchema;
  /** The schema's key order (js/key-order.ts): a saved state sorts keys. */
  key_order?: Record<string, string[]>;
}

export interface AppInfo {
  id: string;
  description: string;
  input_schema: JSONSchema;
  setup_schema: JSONSchema | null;
  /** The schemas' key order (js/key-order.ts), applied when the apps are read (js/loader.ts). */
  key_order?: Record<string, string[]>;
}

/** One status of a run's protocol, in the order a run passes them. */
export interface Step {
  name: string;
  /** The server's native code (tasks) or name (runs). */
  code: number | string | null;
  /** Completed / Failed / Cancelled, done / failed: only one of these is reached. */
  terminal: boolean;
}

/** The synced traits of `inference_nb.widget.run_model.RunModel`: one run, a model with no view. */
export interface RunModelTraits {
  /** The run's small view; its images come apart, below. */
  view: Omit<RunView, "images">;
  /** The run's images as binary buffers (ipywidgets hands them over as DataViews); set once. */
  images: ImagePayload[];
}

export interface ImagePayload {
  data: DataView<ArrayBuffer> | ArrayBuffer;
  /** Its media type, read from the bytes by the kernel. */
  type: string;
  filename: string | null;
}

export type PhaseName = "pending" | "running" | "succeeded" | "failed" | "cancelled";

export interface RunView {
  id: string;
  kind: "task" | "run";
  /** The app id, or the start of the question. */
  label: string;
  phase: PhaseName;
  /** The server's status name now, and its native code. */
  status: string;
  code: number | string | null;
  /** The protocol's statuses: every step of the bar. */
  steps: Step[];
  /** Each status reached and when (ISO 8601), in order. */
  timeline: { name: string; at: string }[];
  /** Runs: each function call as it happens. */
  jobs: JobView[];
  /** Runs: what a paused run waits for. */
  input_requests: InputRequestView[];
  summary: string | null;
  /** Runs: who planned it, a model's name or "deterministic" (absent from servers that do not say). */
  planner?: string | null;
  /** Why it failed (the server's words). */
  error: string | null;
  /** A tabular result: first rows only. */
  preview: Preview | null;
  /** Image outputs, as blob: URLs of the run model's buffers (capped in size). */
  images: ImageView[];
  /** A result that is not a table, as JSON text (capped). */
  text: string | null;
  /** Tasks: how far the app says it is, while it runs (null when it says nothing, or has ended). */
  progress: ProgressView | null;
  /** What the run was given, for the history (null when the server's answer does not carry it). */
  input: RunInput | null;
}

export interface ProgressView {
  done: number;
  /** null: the app does not know how many steps there are. */
  total: number | null;
  message: string | null;
}

/**
 * A run's input, capped and without secrets or file bytes; `complete` is false when
 * anything was left out (then it can be loaded into the form, not run again as it is).
 */
export type RunInput = (
  | { kind: "app"; app: string; values: Record<string, unknown>; complete: boolean }
  | { kind: "ask"; message: string; schema: JSONSchema | null; complete: boolean }
) & {
  /** The values' (or schema's) key order (js/key-order.ts), applied when the view is read (js/run-store.ts). */
  key_order?: Record<string, string[]>;
};

export interface JobView {
  id: string;
  service: string;
  targetFn: string;
  status: string;
  resultType: string | null;
  approvalRequested: boolean;
  approved: boolean | null;
  error?: string;
}

export interface InputRequestView {
  id: string;
  type: string;
  jobId: string | null;
  description: string;
  outcome: "approved" | "rejected" | null;
}

export interface Preview {
  columns: string[];
  /** Cells as JSON values, one array per row, in the order of `columns`. */
  rows: unknown[][];
  /** How many rows the whole result has. */
  total: number;
}

export interface ImageView {
  src: string;
  filename: string | null;
}

/** Browser → kernel. Each carries an id; the answer carries it back. */
export type BrowserMessage =
  | { type: "submit"; id: string; mode: "ask"; message: string; schema_text: string }
  | {
      type: "submit";
      id: string;
      mode: "app";
      app: string;
      input: Record<string, unknown>;
      setup_text: string;
      session: SessionChoice;
      /**
       * Files chosen in file fields, by the field's dotted path; their bytes are the
       * message's binary buffers (never a trait, never base64 in JSON). The kernel
       * uploads each and puts its URI at that path of `input`.
       */
      files?: Record<string, FileRef>;
    }
  | { type: "cancel"; id: string; run_id: string }
  | { type: "approve"; id: string; run_id: string; job_id: string; approved: boolean }
  | { type: "select"; id: string; run_id: string }
  /** Sent at render: an answer means a kernel object stands behind this view (else: a saved snapshot). */
  | { type: "ping"; id: string }
  /** What the forms hold (the fields that changed), sent back while typing (js/typed.ts). */
  | ({ type: "typed"; id: string } & Partial<TypedState>)
  /** Would Submit take this? Answered with Submit's own checks (accepted, or refused naming the field). */
  | { type: "check"; id: string; what: "schema"; schema_text: string }
  | { type: "check"; id: string; what: "input"; app: string; input: Record<string, unknown>; files: string[] };

/** A file sent with a submit. */
export interface FileRef {
  /** Its index among the message's buffers. */
  buffer: number;
  filename: string;
  /** The browser's media type for it ("" when unknown: the kernel guesses from the name). */
  content_type: string;
  size: number;
}

/** Kernel → browser: the answers. */
export type KernelMessage =
  | { type: "accepted"; id: string; run_id: string | null }
  | { type: "refused"; id: string | null; message: string; field: string | null };
