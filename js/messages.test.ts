import { describe, expect, it, vi } from "vitest";
import { Messenger } from "./messages";
import { fakeModel, traits } from "./testing";
import type { Model } from "./messages";

function setup() {
  const fake = fakeModel(traits());
  const stray = vi.fn();
  const messenger = new Messenger(fake.model as unknown as Model, stray);
  return { ...fake, stray, messenger };
}

describe("Messenger", () => {
  it("tags each request with a fresh id and routes the reply to its handler once", () => {
    const { messenger, sent, emit } = setup();
    const first = vi.fn();
    const second = vi.fn();
    const a = messenger.send({ type: "select", run_id: "r1" }, first);
    const b = messenger.send({ type: "cancel", run_id: "r1" }, second);
    expect(a).not.toBe(b);
    expect(sent()).toEqual([{ type: "select", run_id: "r1", id: a }, { type: "cancel", run_id: "r1", id: b }]);
    emit("msg:custom", { type: "accepted", id: b, run_id: "r1" });
    emit("msg:custom", { type: "accepted", id: b, run_id: "r1" });
    expect(second).toHaveBeenCalledTimes(1);
    expect(first).not.toHaveBeenCalled();
  });

  it("passes refusals without an id to the stray handler and drops malformed messages", () => {
    const { messenger, emit, stray } = setup();
    const handler = vi.fn();
    const id = messenger.send({ type: "select", run_id: "r" }, handler);
    emit("msg:custom", { type: "refused", id: null, message: "unreadable request", field: null });
    emit("msg:custom", { type: "refused", id, field: null });
    emit("msg:custom", { type: "pong", id });
    emit("msg:custom", null);
    expect(stray).toHaveBeenCalledWith(expect.objectContaining({ message: "unreadable request" }));
    expect(handler).not.toHaveBeenCalled();
  });

  it("stops listening when disposed", () => {
    const { messenger, listenerCount } = setup();
    expect(listenerCount()).toBe(1);
    messenger.dispose();
    expect(listenerCount()).toBe(0);
  });
});
