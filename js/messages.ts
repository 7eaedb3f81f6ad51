// Talking to the kernel: trait listeners, and id-tagged custom messages with
// their replies (docs/ARCHITECTURE.md, "The widget": clicks travel as messages, never as trait sets).
import type { AnyModel } from "@anywidget/types";
import type { BrowserMessage, KernelMessage, WidgetTraits } from "./types";

export type Model = AnyModel<WidgetTraits>;

/** A message before it gets its id. */
export type Request = BrowserMessage extends infer M ? (M extends unknown ? Omit<M, "id"> : never) : never;
export type SubmitRequest = Extract<Request, { type: "submit" }>;

/** Call `handler` when any of `traits` changes; returns the way to stop. */
export function onTraits(model: Model, traits: (keyof WidgetTraits)[], handler: () => void): () => void {
  for (const trait of traits) model.on(`change:${trait}`, handler);
  return () => {
    for (const trait of traits) model.off(`change:${trait}`, handler);
  };
}

function isKernelMessage(msg: unknown): msg is KernelMessage {
  if (typeof msg !== "object" || msg === null) return false;
  const m = msg as Record<string, unknown>;
  if (m.type === "accepted") return typeof m.id === "string";
  if (m.type === "refused") return (typeof m.id === "string" || m.id === null) && typeof m.message === "string";
  return false;
}

type ReplyHandler = (reply: KernelMessage) => void;

/**
 * Sends requests and routes each reply to the handler of its id. Every view of
 * a model receives every reply, so ids carry a random per-view prefix.
 * Replies without an id (the kernel could not read a request) go to `onStray`;
 * a request the page cannot send (the kernel restarted or shut down: "Cannot send")
 * goes to `onUnsent` instead of raising.
 */
export class Messenger {
  private readonly prefix = Math.random().toString(36).slice(2, 10);
  private sent = 0;
  private readonly waiting = new Map<string, ReplyHandler>();
  private readonly listener = (msg: unknown) => this.receive(msg);

  constructor(
    private readonly model: Model,
    private readonly onStray: (reply: KernelMessage) => void,
    private readonly onUnsent: (error: unknown) => void = () => {},
  ) {
    model.on("msg:custom", this.listener);
  }

  /**
   * Send `request` with a fresh id (and binary `buffers`); `onReply` gets the answer to it.
   * Returns the id, or null when the page could not send it (then `onUnsent` was told).
   */
  send(request: Request, onReply: ReplyHandler = () => {}, buffers: ArrayBuffer[] = []): string | null {
    // Not crypto.randomUUID(): it is missing outside secure contexts
    // (JupyterLab over plain http on a remote host).
    this.sent += 1;
    const id = `${this.prefix}-${this.sent}`;
    this.waiting.set(id, onReply);
    const message = { ...request, id } as BrowserMessage;
    try {
      if (buffers.length) this.model.send(message, undefined, buffers);
      else this.model.send(message);
    } catch (error) {
      this.waiting.delete(id);
      this.onUnsent(error);
      return null;
    }
    return id;
  }

  dispose(): void {
    this.model.off("msg:custom", this.listener);
    this.waiting.clear();
  }

  private receive(msg: unknown): void {
    if (!isKernelMessage(msg)) return;
    if (msg.id === null) {
      this.onStray(msg);
      return;
    }
    const handler = this.waiting.get(msg.id);
    if (!handler) return;
    this.waiting.delete(msg.id);
    handler(msg);
  }
}
