import { afterEach, describe, expect, it, vi } from "vitest";
import type { RenderProps } from "@anywidget/types";
import widget from "./widget";
import type { BadgeTraits } from "./types";

type Handler = (...args: unknown[]) => void;

// Just enough of an anywidget model: traits, listeners by event name, and a
// spy on send(). `emit` plays the kernel's side.
function fakeModel(traits: BadgeTraits) {
  const state = { ...traits };
  const listeners = new Map<string, Set<Handler>>();
  const emit = (event: string, ...args: unknown[]) => {
    for (const handler of listeners.get(event) ?? []) handler(...args);
  };
  const model = {
    get: <K extends keyof BadgeTraits>(key: K) => state[key],
    set: <K extends keyof BadgeTraits>(key: K, value: BadgeTraits[K]) => {
      state[key] = value;
      emit(`change:${key}`);
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
    widget_manager: { get_model: () => Promise.reject(new Error("unused")) },
  };
  const listenerCount = () => [...listeners.values()].reduce((n, set) => n + set.size, 0);
  return { model, emit, listenerCount };
}

async function mount(traits: BadgeTraits) {
  const fake = fakeModel(traits);
  const el = document.createElement("div");
  document.body.append(el);
  const props = { model: fake.model, el } as unknown as RenderProps<BadgeTraits>;
  const cleanup = await widget.render(props);
  if (typeof cleanup !== "function") throw new Error("render must return a cleanup");
  const text = (selector: string) => el.querySelector(selector)?.textContent;
  const button = el.querySelector<HTMLButtonElement>("button.inb-badge-ping")!;
  return { ...fake, el, cleanup, text, button };
}

const READY: BadgeTraits = { server_url: "http://127.0.0.1:43121", app_count: 3, status: "ready" };

afterEach(() => {
  document.body.replaceChildren();
});

describe("server badge", () => {
  it("shows the url, app count and status", async () => {
    const { text, el } = await mount(READY);
    expect(text(".inb-badge-url")).toBe("http://127.0.0.1:43121");
    expect(text(".inb-badge-count")).toBe("3 apps");
    expect(text(".inb-badge-status")).toBe("ready");
    expect(el.querySelector("style")?.textContent).toContain(".inb-badge");
  });

  it("re-renders when a trait changes", async () => {
    const { model, text } = await mount(READY);
    model.set("app_count", 1);
    model.set("status", "stopped");
    model.set("server_url", "");
    expect(text(".inb-badge-count")).toBe("1 app");
    expect(text(".inb-badge-status")).toBe("stopped");
    expect(text(".inb-badge-url")).toBe("(no server)");
  });

  it("sends a ping with a fresh id on each click", async () => {
    const { model, button, text } = await mount(READY);
    button.click();
    button.click();
    expect(model.send).toHaveBeenCalledTimes(2);
    const [first, second] = model.send.mock.calls.map(([msg]) => msg);
    expect(first).toEqual({ type: "ping", id: expect.any(String) });
    expect(second.id).not.toBe(first.id);
    expect(text(".inb-badge-reply")).toBe("ping…");
  });

  it("shows the pong to its own ping, app ids as literal text", async () => {
    const { model, emit, button, text, el } = await mount(READY);
    button.click();
    const { id } = model.send.mock.calls[0][0];
    const hostile = "<img src=x onerror=alert(1)>";
    emit("msg:custom", { type: "pong", id, apps: ["demo/picture@1.0.0", hostile] });
    expect(text(".inb-badge-reply")).toBe(`pong: demo/picture@1.0.0, ${hostile}`);
    expect(el.querySelector("img")).toBeNull();
  });

  it("ignores replies to other views' pings and malformed messages", async () => {
    const { emit, button, text } = await mount(READY);
    button.click();
    emit("msg:custom", { type: "pong", id: "someone-else", apps: ["x"] });
    emit("msg:custom", "pong");
    emit("msg:custom", { type: "pong" });
    expect(text(".inb-badge-reply")).toBe("ping…");
  });

  it("shows an error reply", async () => {
    const { model, emit, button, el } = await mount(READY);
    button.click();
    const { id } = model.send.mock.calls[0][0];
    emit("msg:custom", { type: "error", id, message: "list_apps failed" });
    const reply = el.querySelector<HTMLElement>(".inb-badge-reply")!;
    expect(reply.textContent).toBe("error: list_apps failed");
    expect(reply.dataset.kind).toBe("error");
  });

  it("removes its listeners on cleanup", async () => {
    const { model, cleanup, listenerCount, button, text } = await mount(READY);
    expect(listenerCount()).toBeGreaterThan(0);
    await cleanup();
    expect(listenerCount()).toBe(0);
    model.set("status", "changed after cleanup");
    button.click();
    expect(text(".inb-badge-status")).toBe("ready");
    expect(model.send).not.toHaveBeenCalled();
  });
});
