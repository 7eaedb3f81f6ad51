// Is a kernel object behind this view? (docs/ARCHITECTURE.md, "The widget": a view with no
// kernel object behind it.) A widget restored from a saved notebook looks exactly like a live
// one, and so does one whose kernel restarted, shut down or lost its connection: nothing
// answers its messages, and sending raises "Cannot send". So a view pings at render, listens
// to what the page knows of the kernel (its status and connection, when the widget manager
// exposes them), pings again when ipywidgets marks the model's comm dead or alive, and counts
// a message the page refused to send as a gone kernel.
import { h } from "./dom";
import type { Messenger, Model } from "./messages";

/** How long a ping may go unanswered before the view counts as having no kernel behind it. */
export const PING_TIMEOUT_MS = 2_000;

/** live; saved: never answered (restored from a saved notebook); gone: a kernel that answered is gone. */
export type Liveness = "live" | "saved" | "gone" | "disconnected";

const NOTES: Record<Exclude<Liveness, "live">, [string, string]> = {
  saved: ["Saved view", "re-run the cell to use it."],
  gone: ["Kernel gone", "it restarted or shut down; re-run the cell to use this widget."],
  disconnected: ["Kernel not connected", "waiting for the connection; re-run the cell if it does not come back."],
};

/** The line that says why the widget is read-only (hidden while live). */
export class LivenessNote {
  readonly el = h("p", { class: "inb-snapshot-note", role: "note", hidden: true });

  show(state: Liveness): void {
    this.el.hidden = state === "live";
    if (state === "live") return;
    const [title, rest] = NOTES[state];
    this.el.replaceChildren(h("strong", {}, title), ` — ${rest}`);
    this.el.dataset.state = state;
  }
}

/** A Lumino signal, as far as it is used here. */
interface Signal<A> {
  connect(slot: (sender: unknown, args: A) => void, thisArg?: unknown): boolean;
  disconnect(slot: (sender: unknown, args: A) => void, thisArg?: unknown): boolean;
}

/** What JupyterLab's and Notebook 7's widget managers expose of the kernel (duck-typed: other front ends lack it). */
interface SessionLike {
  statusChanged?: Signal<string>;
  connectionStatusChanged?: Signal<string>;
  kernelChanged?: Signal<unknown>;
}

/** Kernel statuses after which no kernel object of ours is left (a restart starts an empty kernel). */
const ENDING = new Set(["restarting", "autorestarting", "terminating", "dead"]);

/** The session context (notebook) or kernel connection the widget manager works with, if it says. */
function sessionOf(model: Model): SessionLike | null {
  const manager = model.widget_manager as unknown as { context?: { sessionContext?: SessionLike }; kernel?: SessionLike } | undefined;
  return manager?.context?.sessionContext ?? manager?.kernel ?? null;
}

/**
 * Watches whether a kernel object stands behind the view; `onChange` gets each new state.
 * Starts live (nothing is disabled during the first ping); `saved` after the first ping goes
 * unanswered; `gone` when a kernel that answered went away; live again when a ping is answered.
 */
export class KernelWatch {
  private state: Liveness = "live";
  private answered = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly session: SessionLike | null;
  /** The kernel's last status the page reported ("busy" while a cell runs), if it reports any. */
  private status: string | null = null;
  private readonly onStatus = (_: unknown, status: string) => {
    this.status = status;
    if (ENDING.has(status)) this.set("gone");
    else if (status === "idle" && this.state !== "live") this.ping();
  };
  private readonly onConnection = (_: unknown, status: string) => {
    if (status === "connected") this.ping();
    else if (this.state === "live") this.set("disconnected");
  };
  private readonly onKernelChanged = () => this.set("gone");
  private readonly onCommLive = () => this.ping();

  constructor(
    private readonly messenger: Messenger,
    private readonly model: Model,
    private readonly onChange: (state: Liveness) => void,
  ) {
    this.session = sessionOf(model);
    this.session?.statusChanged?.connect(this.onStatus);
    this.session?.connectionStatusChanged?.connect(this.onConnection);
    this.session?.kernelChanged?.connect(this.onKernelChanged);
    model.on("comm_live_update", this.onCommLive);
    this.ping();
  }

  /** Whether the kernel is running something (a cell): messages wait until it is free. */
  get busy(): boolean {
    return this.status === "busy";
  }

  /** The page could not send a message: whatever was behind the view is gone. */
  unsent(): void {
    this.set(this.answered ? "gone" : "saved");
  }

  /** Ask the kernel; no answer in time means nobody is there (a late answer turns the view live). */
  ping(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.set(this.answered ? "gone" : "saved"), PING_TIMEOUT_MS);
    const sent = this.messenger.send({ type: "ping" }, () => {
      clearTimeout(this.timer);
      this.answered = true;
      this.set("live");
    });
    if (sent === null) this.unsent();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.session?.statusChanged?.disconnect(this.onStatus);
    this.session?.connectionStatusChanged?.disconnect(this.onConnection);
    this.session?.kernelChanged?.disconnect(this.onKernelChanged);
    this.model.off("comm_live_update", this.onCommLive);
  }

  private set(state: Liveness): void {
    if (state !== "live") clearTimeout(this.timer);
    if (state === this.state) return;
    // A saved view stays "saved" however it fails again; a live one that fails is "gone".
    if (state === "gone" && this.state === "saved") return;
    this.state = state;
    this.onChange(state);
  }
}
