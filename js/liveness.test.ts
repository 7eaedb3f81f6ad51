import { afterEach, describe, expect, it, vi } from "vitest";
import { PING_TIMEOUT_MS } from "./liveness";
import { mount, type } from "./testing";

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

/** A Lumino-like signal. */
function signal<A>() {
  const slots = new Set<(sender: unknown, args: A) => void>();
  return {
    connect: (slot: (sender: unknown, args: A) => void) => (slots.add(slot), true),
    disconnect: (slot: (sender: unknown, args: A) => void) => slots.delete(slot),
    emit: (args: A) => slots.forEach((slot) => slot(null, args)),
    get size() { return slots.size; },
  };
}

/** A widget whose manager exposes a session context, as JupyterLab's and Notebook 7's do. */
async function inNotebook() {
  const session = { statusChanged: signal<string>(), connectionStatusChanged: signal<string>(), kernelChanged: signal<unknown>() };
  const widget = await mount({ kernel: false, manager: { context: { sessionContext: session } } });
  widget.reply({ type: "accepted", run_id: null }); // the ping at render
  widget.model.send.mockClear();
  return { ...widget, session };
}

const note = (el: HTMLElement) => el.querySelector<HTMLElement>(".inb-snapshot-note")!;

describe("a widget whose kernel is gone", () => {
  it("says so at once when the kernel restarts, with Submit off", async () => {
    const { el, session, button } = await inNotebook();
    expect(note(el).hidden).toBe(true);
    session.statusChanged.emit("restarting");
    expect(note(el).hidden).toBe(false);
    expect(note(el).textContent).toContain("re-run the cell to use");
    expect(note(el).dataset.state).toBe("gone");
    expect(button("Submit").disabled).toBe(true);
  });

  it("says the connection is lost, and turns live again when it comes back and the kernel answers", async () => {
    const { el, session, reply, button } = await inNotebook();
    session.connectionStatusChanged.emit("connecting");
    expect(note(el).dataset.state).toBe("disconnected");
    expect(button("Submit").disabled).toBe(true);
    session.connectionStatusChanged.emit("connected");
    reply({ type: "accepted", run_id: null }); // the ping sent on reconnecting
    expect(note(el).hidden).toBe(true);
    expect(button("Submit").disabled).toBe(false);
  });

  it("turns a message the page cannot send into the gone state, with no uncaught error", async () => {
    const { el, model, field, button } = await inNotebook();
    model.send.mockImplementation(() => { throw new Error("Cannot send"); });
    type(field<HTMLTextAreaElement>("message"), "How many?");
    expect(() => button("Submit").click()).not.toThrow();
    expect(note(el).dataset.state).toBe("gone");
    expect(el.querySelector(".inb-notice")!.textContent).toBe("Not sent: no kernel is behind this widget any more; re-run its cell.");
    expect(button("Submit").disabled).toBe(true);
  });

  it("pings again when ipywidgets marks the comm dead, and is gone when nothing answers", async () => {
    vi.useFakeTimers();
    const { el, emit, sent } = await inNotebook();
    emit("comm_live_update");
    expect(sent()[sent().length - 1]!.type).toBe("ping");
    vi.advanceTimersByTime(PING_TIMEOUT_MS + 1);
    expect(note(el).dataset.state).toBe("gone");
  });

  it("lets go of the session's signals when the view goes", async () => {
    const { session, cleanup } = await inNotebook();
    expect(session.statusChanged.size).toBe(1);
    cleanup();
    expect(session.statusChanged.size + session.connectionStatusChanged.size + session.kernelChanged.size).toBe(0);
  });

  it("tells why a submit waits after a few seconds", async () => {
    vi.useFakeTimers();
    const { el, field, button, session } = await inNotebook();
    session.statusChanged.emit("busy");
    type(field<HTMLTextAreaElement>("message"), "How many?");
    button("Submit").click();
    expect(el.querySelector(".inb-notice")!.textContent).toBe("Submitting…");
    vi.advanceTimersByTime(3_000);
    expect(el.querySelector(".inb-notice")!.textContent).toContain("the kernel is busy");
  });
});
