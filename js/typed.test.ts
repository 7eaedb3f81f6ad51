import { afterEach, describe, expect, it, vi } from "vitest";
import { TYPED_DELAY_MS } from "./typed";
import { mount, type } from "./testing";

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

describe("what the user typed is state", () => {
  it("sends the Ask message back once typing pauses, only what changed", async () => {
    vi.useFakeTimers();
    const { field, typedSent } = await mount();
    type(field<HTMLTextAreaElement>("message"), "How");
    type(field<HTMLTextAreaElement>("message"), "How many?");
    expect(typedSent()).toHaveLength(0);
    vi.advanceTimersByTime(TYPED_DELAY_MS);
    expect(typedSent()).toEqual([{ type: "typed", id: expect.any(String), message: "How many?" }]);
  });

  it("sends the App form's input, setup, session and mode", async () => {
    vi.useFakeTimers();
    const { field, typedSent, $ } = await mount({ last_session_id: "s1" });
    $<HTMLButtonElement>('[role="tab"]:nth-child(2)')!.click();
    type(field<HTMLTextAreaElement>("prompt"), "a lake");
    type(field<HTMLTextAreaElement>("setup"), '{"a": 1}');
    type(field<HTMLSelectElement>("session"), "new");
    vi.advanceTimersByTime(TYPED_DELAY_MS);
    expect(typedSent()).toEqual([{
      type: "typed", id: expect.any(String), mode: "app",
      input: { prompt: "a lake", width: 512, seed: null, style: "flat" }, setup_text: '{"a": 1}', session: "new",
    }]);
  });

  it("does not write the kernel's echo of older text over what is typed by now", async () => {
    vi.useFakeTimers();
    const { field, model } = await mount();
    const message = field<HTMLTextAreaElement>("message");
    type(message, "How many");
    vi.advanceTimersByTime(TYPED_DELAY_MS);
    type(message, "How many apples?");
    model.set("message", "How many");  // the kernel's trait change, for the text sent before
    expect(message.value).toBe("How many apples?");
    model.set("message", "Set from Python");  // a change of the kernel's own is shown
    expect(message.value).toBe("Set from Python");
  });

  it("sends nothing from a read-only view", async () => {
    vi.useFakeTimers();
    const { field, typedSent } = await mount({ kernel: false });
    vi.advanceTimersByTime(3_000);  // the ping goes unanswered
    type(field<HTMLTextAreaElement>("message"), "How many?");
    vi.advanceTimersByTime(TYPED_DELAY_MS);
    expect(typedSent()).toHaveLength(0);
  });
});
