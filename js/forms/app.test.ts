import { afterEach, describe, expect, it, vi } from "vitest";
import { mount, type } from "../testing";
import { CHECK_DELAY_MS } from "./remote-check";

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

const appMode = { mode: "app" as const };

describe("App form", () => {
  it("picks the app from the traits and shows its description and input form", async () => {
    const { field, $ } = await mount(appMode);
    const picker = field<HTMLSelectElement>("app");
    expect(Array.from(picker.options).map((o) => o.value)).toEqual(["demo/picture@1.0.0", "demo/sleep@1.0.0"]);
    expect(picker.value).toBe("demo/picture@1.0.0");
    expect($('[data-field="app"] .inb-help')!.textContent).toBe("Draws a picture.");
    expect(field("width").value).toBe("512");
  });

  it("rebuilds the form for another app and keeps what was typed for each", async () => {
    const { field } = await mount(appMode);
    type(field<HTMLTextAreaElement>("prompt"), "a lake");
    type(field<HTMLSelectElement>("app"), "demo/sleep@1.0.0");
    expect(field("seconds").value).toBe("2");
    expect(document.querySelector('[data-field="prompt"]')).toBeNull();
    type(field<HTMLSelectElement>("app"), "demo/picture@1.0.0");
    expect(field<HTMLTextAreaElement>("prompt").value).toBe("a lake");
  });

  it("pre-fills input, setup and session; 'continue last' needs a session", async () => {
    const { field, $ } = await mount({ ...appMode, input_values: { prompt: "fog" }, setup_text: '{"style": "soft"}', session: "last" });
    expect(field<HTMLTextAreaElement>("prompt").value).toBe("fog");
    expect(field<HTMLTextAreaElement>("setup").value).toBe('{"style": "soft"}');
    expect($<HTMLDetailsElement>("details.inb-setup")!.open).toBe(true);
    const session = field<HTMLSelectElement>("session");
    expect(session.value).toBe("none");
    expect(session.options[2]!.disabled).toBe(true);
  });

  it("keeps setup collapsed when empty and labels the last session with its id", async () => {
    const { field, $, model } = await mount({ ...appMode, last_session_id: "sess-42", session: "last" });
    expect($<HTMLDetailsElement>("details.inb-setup")!.open).toBe(false);
    const session = field<HTMLSelectElement>("session");
    expect(session.value).toBe("last");
    expect(session.options[2]!.textContent).toBe("continue last (sess-42)");
    model.set("last_session_id", "sess-43");
    expect(session.value).toBe("last");
    expect(session.options[2]!.textContent).toBe("continue last (sess-43)");
  });

  it("follows app and input changes from Python without touching other typing", async () => {
    const { field, model } = await mount(appMode);
    type(field<HTMLTextAreaElement>("setup"), '{"a": 1}');
    model.set("input_values", { prompt: "dunes", width: 100 });
    expect(field<HTMLTextAreaElement>("prompt").value).toBe("dunes");
    expect(field("width").value).toBe("100");
    expect(field<HTMLTextAreaElement>("setup").value).toBe('{"a": 1}');
    model.set("app", "demo/sleep@1.0.0");
    expect(field<HTMLSelectElement>("app").value).toBe("demo/sleep@1.0.0");
    model.set("apps", []);
    expect(field<HTMLSelectElement>("app").options[0]!.textContent).toBe("(no apps on this server)");
  });

  it("validates setup as a JSON object", async () => {
    const { field, $ } = await mount(appMode);
    type(field<HTMLTextAreaElement>("setup"), "[1, 2]");
    expect($('[data-field="setup"] .inb-error')!.textContent).toBe("Setup JSON: must be a JSON object, not an array");
  });

  it("has the kernel check raw JSON input against the app's schema while it is typed", async () => {
    vi.useFakeTimers();
    const { $, sent, reply } = await mount(appMode);
    const toggle = $<HTMLInputElement>(".inb-toggle input")!;
    toggle.click();
    const raw = $<HTMLTextAreaElement>(".inb-raw textarea")!;
    const error = $(".inb-raw .inb-error")!;
    const edit = (text: string) => {
      raw.value = text;
      raw.dispatchEvent(new Event("input", { bubbles: true }));
    };
    edit('{"prompt": "a lake", "width": "wi');
    vi.advanceTimersByTime(CHECK_DELAY_MS);
    expect(sent()).toEqual([]); // not JSON yet: nothing to ask
    edit('{"prompt": "a lake", "width": "wide"}');
    vi.advanceTimersByTime(CHECK_DELAY_MS);
    expect(sent()).toEqual([{
      type: "check", id: expect.any(String), what: "input", app: "demo/picture@1.0.0",
      input: { prompt: "a lake", width: "wide" }, files: [],
    }]);
    reply({ type: "refused", field: "input.width", message: "input.width: must be a whole number, not text" });
    expect(error.textContent).toBe("input.width: must be a whole number, not text");
    raw.dispatchEvent(new Event("change", { bubbles: true })); // leaving the box, e.g. to click Submit
    expect(error.textContent).toBe("input.width: must be a whole number, not text");

    edit('{"prompt": "a lake", "width": 300}');
    vi.advanceTimersByTime(CHECK_DELAY_MS);
    reply({ type: "accepted", run_id: null });
    expect(error.hidden).toBe(true);
  });
});
