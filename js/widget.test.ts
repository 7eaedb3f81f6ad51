import { afterEach, describe, expect, it, vi } from "vitest";
import { askRun, at, image, mount, stubBlobUrls, taskRun, timeline, type } from "./testing";

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

const HOSTILE = "<img src=x onerror=alert(1)>";

describe("submit", () => {
  it("sends an ask submit with a fresh id and waits for the answer", async () => {
    const { field, button, sent, reply, $ } = await mount({ schema_text: '{"type": "integer"}' });
    type(field<HTMLTextAreaElement>("message"), "How many apples?");
    button("Submit").click();
    expect(sent()).toEqual([{ type: "submit", id: expect.any(String), mode: "ask", message: "How many apples?", schema_text: '{"type": "integer"}' }]);
    expect($(".inb-notice")!.textContent).toBe("Submitting…");
    expect(button("Submit").disabled).toBe(true);
    reply({ type: "accepted", run_id: "run-9" });
    expect($(".inb-notice")!.textContent).toBe("");
    button("Submit").click();
    expect(sent()[1]!.id).not.toBe(sent()[0]!.id);
  });

  it("sends an app submit with input, setup and session", async () => {
    const { field, button, sent } = await mount({ mode: "app", last_session_id: "s1" });
    type(field<HTMLTextAreaElement>("prompt"), "a lake");
    type(field<HTMLTextAreaElement>("setup"), '{"style": "soft"}');
    type(field<HTMLSelectElement>("session"), "last");
    button("Submit").click();
    expect(sent()).toEqual([{
      type: "submit", id: expect.any(String), mode: "app", app: "demo/picture@1.0.0",
      input: { prompt: "a lake", width: 512, seed: null, style: "flat" }, setup_text: '{"style": "soft"}', session: "last",
    }]);
  });

  it("sends nothing while the form is invalid, and says what is wrong next to it", async () => {
    const ask = await mount({ schema_text: '{"type": "object",\n  "properties": {}\n  "x": 1}' });
    ask.button("Submit").click();
    expect(ask.model.send).not.toHaveBeenCalled();
    expect(ask.$('[data-field="message"] .inb-error')!.textContent).toBe("Message: write a question");
    expect(ask.$('[data-field="schema"] .inb-error')!.textContent).toBe("Result schema: line 3, column 3: Expected ',' or '}' after a property value");
    expect(ask.$(".inb-notice")!.textContent).toBe("Not sent: Message: write a question");
    expect(document.activeElement).toBe(ask.field("message"));
    ask.cleanup();

    const app = await mount({ mode: "app", input_values: { prompt: "p", width: 5000 }, setup_text: "[]" });
    app.button("Submit").click();
    expect(app.model.send).not.toHaveBeenCalled();
    expect(app.$('[data-field="width"] .inb-error')!.textContent).toBe("Width: must be ≤ 1024");
    expect(app.$('[data-field="setup"] .inb-error')!.textContent).toBe("Setup JSON: must be a JSON object, not an array");
    // Next to the button, one wording naming the first bad field.
    expect(app.$(".inb-notice")!.textContent).toBe("Not sent: Width: must be ≤ 1024");
  });

  it("shows a refusal next to the field it names, or in the notice", async () => {
    const { field, button, reply, $ } = await mount({ mode: "app", input_values: { prompt: "p" } });
    button("Submit").click();
    reply({ type: "refused", message: "must be a multiple of 8", field: "input.width" });
    expect($('[data-field="width"] .inb-error')!.textContent).toBe("Width: must be a multiple of 8");
    expect($(".inb-notice")!.textContent).toBe("Not sent: Width: must be a multiple of 8");
    expect(button("Submit").disabled).toBe(false);
    button("Submit").click();
    reply({ type: "refused", message: "the server is not reachable", field: null });
    expect($(".inb-notice")!.textContent).toBe("Not sent: the server is not reachable");
    expect($(".inb-notice")!.dataset.kind).toBe("error");
    // A kernel that already names the field is not echoed twice.
    button("Submit").click();
    reply({ type: "refused", message: "input.width: must be a multiple of 8", field: "width" });
    expect($('[data-field="width"] .inb-error')!.textContent).toBe("Width: must be a multiple of 8");
    expect(field("width").getAttribute("aria-invalid")).toBe("true");
  });

  it("ignores replies meant for other views and says so when the kernel does not answer", async () => {
    vi.useFakeTimers();
    const { field, button, emit, $ } = await mount();
    type(field<HTMLTextAreaElement>("message"), "q");
    button("Submit").click();
    emit("msg:custom", { type: "accepted", id: "other-view-1", run_id: "x" });
    emit("msg:custom", "accepted");
    expect($(".inb-notice")!.textContent).toBe("Submitting…");
    vi.advanceTimersByTime(15_000);
    expect($(".inb-notice")!.textContent).toContain("No answer from the kernel yet");
    expect(button("Submit").disabled).toBe(false);
  });

  it("submits with Ctrl+Enter or Cmd+Enter from anywhere in the widget", async () => {
    const { field, sent, $ } = await mount({ message: "q" });
    const editor = field<HTMLTextAreaElement>("schema");
    const event = new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true, bubbles: true, cancelable: true });
    editor.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
    expect(sent()).toHaveLength(1);
    field<HTMLTextAreaElement>("message").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(sent()).toHaveLength(1);
    expect($(".inb-widget")!.hasAttribute("data-lm-suppress-shortcuts")).toBe(true);
  });
});

describe("tabs", () => {
  it("start at the mode trait, switch locally, and follow the trait", async () => {
    const { $, button, model, sent } = await mount({ mode: "app" });
    const [ask, app] = Array.from(document.querySelectorAll<HTMLElement>('[role="tabpanel"]'));
    expect(ask!.hidden && !app!.hidden).toBe(true);
    button("Ask").click();
    expect(!ask!.hidden && app!.hidden).toBe(true);
    expect($('[role="tab"][aria-selected="true"]')!.textContent).toBe("Ask");
    $('[role="tab"][aria-selected="true"]')!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(document.activeElement!.textContent).toBe("App");
    model.set("mode", "ask");
    expect(!ask!.hidden).toBe(true);
    expect(sent()).toEqual([]);
  });
});

describe("runs", () => {
  it("cancels the current live run, once", async () => {
    const { button, sent, setRuns, reply } = await mount({ runs: [taskRun()], current: "task-1" });
    expect(button("Cancel").disabled).toBe(false);
    button("Cancel").click();
    expect(sent()).toEqual([{ type: "cancel", id: expect.any(String), run_id: "task-1" }]);
    expect(button("Cancelling…").disabled).toBe(true);
    reply({ type: "refused", message: "already finished", field: null });
    expect(button("Cancel").disabled).toBe(false);
    await setRuns([taskRun({ phase: "cancelled", status: "Cancelled" })]);
    expect(button("Cancel").disabled).toBe(true);
  });

  it("approves or rejects an input request of a paused run", async () => {
    const run = askRun({ status: "paused", input_requests: [{ id: "ir", type: "approval", jobId: "j7", description: "Delete?", outcome: null }] });
    const { button, sent } = await mount({ runs: [run], current: "run-1" });
    button("Approve").click();
    expect(sent()).toEqual([{ type: "approve", id: expect.any(String), run_id: "run-1", job_id: "j7", approved: true }]);
  });

  it("selects a run from the history", async () => {
    const { el, sent } = await mount({ runs: [taskRun(), askRun()], current: "run-1" });
    el.querySelectorAll<HTMLButtonElement>(".inb-history-item")[1]!.click();
    expect(sent()).toEqual([{ type: "select", id: expect.any(String), run_id: "task-1" }]);
  });

  it("loads a history run's input into the App form, picking its app", async () => {
    const input = { kind: "app" as const, app: "demo/sleep@1.0.0", values: { seconds: 7 }, complete: true };
    const { el, field, $, sent } = await mount({ runs: [taskRun({ input })], current: "task-1" });
    el.querySelector<HTMLButtonElement>(".inb-history-load")!.click();
    expect(field<HTMLSelectElement>("app").value).toBe("demo/sleep@1.0.0");
    expect(field("seconds").value).toBe("7");
    expect($(".inb-notice")!.textContent).toBe("Loaded into the form.");
    expect(sent()).toEqual([]);
  });

  it("loads a question and its schema into the Ask form", async () => {
    const input = { kind: "ask" as const, message: "How many?", schema: { type: "integer" }, complete: false };
    const { el, field, $ } = await mount({ mode: "app", runs: [askRun({ input })], current: "run-1" });
    el.querySelector<HTMLButtonElement>(".inb-history-load")!.click();
    expect(field<HTMLTextAreaElement>("message").value).toBe("How many?");
    expect(JSON.parse(field<HTMLTextAreaElement>("schema").value)).toEqual({ type: "integer" });
    expect($(".inb-notice")!.textContent).toMatch(/^Loaded into the form; part of that input was not kept/);
  });

  it("says so when the run's app is not on this server", async () => {
    const input = { kind: "app" as const, app: "demo/gone@1.0.0", values: {}, complete: true };
    const { el, $ } = await mount({ runs: [taskRun({ input })], current: "task-1" });
    el.querySelector<HTMLButtonElement>(".inb-history-load")!.click();
    expect($(".inb-notice")!.textContent).toBe("Not loaded: this server has no app demo/gone@1.0.0.");
  });

  it("runs a history run's input again as a submit", async () => {
    const input = { kind: "app" as const, app: "demo/sleep@1.0.0", values: { seconds: 7 }, complete: true };
    const { el, sent, button } = await mount({ runs: [taskRun({ input })], current: "task-1" });
    el.querySelector<HTMLButtonElement>(".inb-history-again")!.click();
    expect(sent()).toEqual([{ type: "submit", id: expect.any(String), mode: "app", app: "demo/sleep@1.0.0", input: { seconds: 7 }, setup_text: "", session: "none" }]);
    expect(button("Submit").disabled).toBe(true);
  });

  it("updates status and result on each runs change without re-creating the form", async () => {
    const { field, model, setRuns, $ } = await mount({ runs: [askRun()], current: "run-1" });
    const message = field<HTMLTextAreaElement>("message");
    message.focus();
    type(message, "half-typed");
    await setRuns([askRun({ phase: "succeeded", status: "done", summary: "3 apples", text: "3", timeline: timeline(["pending", 0], ["done", 800]) })]);
    expect(field("message")).toBe(message);
    expect(document.activeElement).toBe(message);
    expect(message.value).toBe("half-typed");
    expect($(".inb-run-status")!.textContent).toBe("done");
    expect($("pre.inb-text")!.textContent).toBe("3");
    model.set("current", null);
    expect($(".inb-run")!.hidden).toBe(true);
  });

  it("ticks the elapsed time while a run is live, and stops after", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(at(2500));
    const { $, setRuns } = await mount({ runs: [taskRun()], current: "task-1" });
    expect($(".inb-elapsed")!.textContent).toBe("2.5 s");
    vi.advanceTimersByTime(1000);
    expect($(".inb-elapsed")!.textContent).toBe("3.5 s");
    await setRuns([taskRun({ phase: "succeeded", status: "Completed", timeline: timeline(["Received", 0], ["Completed", 4000]) })]);
    expect(vi.getTimerCount()).toBe(0);
    expect($(".inb-elapsed")!.textContent).toBe("total 4.0 s");
  });
});

describe("restored state", () => {
  const done = askRun({ phase: "succeeded", status: "done", text: "42", timeline: timeline(["pending", 0], ["done", 800]) });
  const older = taskRun({ id: "task-0", phase: "succeeded", status: "Completed", text: "older result" });

  it("pings the kernel at render and stays live when it answers", async () => {
    vi.useFakeTimers();
    const { sent, reply, $, button } = await mount({ kernel: false, runs: [done], current: "run-1" });
    expect(sent()).toEqual([{ type: "ping", id: expect.any(String) }]);
    reply({ type: "accepted", run_id: null });
    vi.advanceTimersByTime(5000);
    expect($(".inb-snapshot-note")!.hidden).toBe(true);
    expect(button("Submit").disabled).toBe(false);
  });

  it("becomes a read-only snapshot when no kernel answers, with its history browsable here", async () => {
    vi.useFakeTimers();
    const { sent, $, el, button } = await mount({ kernel: false, runs: [older, done], current: "run-1" });
    vi.advanceTimersByTime(2100);
    expect($(".inb-snapshot-note")!.hidden).toBe(false);
    expect($(".inb-snapshot-note")!.textContent).toBe("Saved view — re-run the cell to use it.");
    expect(button("Submit").disabled).toBe(true);
    expect(button("Cancel").disabled).toBe(true);
    expect($("pre.inb-text")!.textContent).toBe("42");
    el.querySelectorAll<HTMLButtonElement>(".inb-history-item")[1]!.click();  // newest first: the older run
    expect($("pre.inb-text")!.textContent).toBe("older result");
    button("Submit").click();
    el.querySelector(".inb-widget")!.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true, bubbles: true }));
    expect(sent().map((m) => m.type)).toEqual(["ping"]);  // nothing else was sent
  });

  it("keeps approvals closed in a snapshot", async () => {
    vi.useFakeTimers();
    const paused = askRun({ status: "paused", input_requests: [{ id: "ir", type: "approval", jobId: "j7", description: "Delete?", outcome: null }] });
    const { button, sent } = await mount({ kernel: false, runs: [paused], current: "run-1" });
    vi.advanceTimersByTime(2100);
    expect(button("Approve").disabled).toBe(true);
    button("Approve").click();
    expect(sent().map((m) => m.type)).toEqual(["ping"]);
  });

  it("turns live when a late answer comes (the kernel was only busy)", async () => {
    vi.useFakeTimers();
    const { reply, $, button } = await mount({ kernel: false, runs: [done], current: "run-1" });
    vi.advanceTimersByTime(2100);
    expect(button("Submit").disabled).toBe(true);
    reply({ type: "accepted", run_id: null });
    expect($(".inb-snapshot-note")!.hidden).toBe(true);
    expect(button("Submit").disabled).toBe(false);
  });
});

describe("escaping", () => {
  it("renders every text from a run as text, never as HTML", async () => {
    const run = { ...askRun({
      label: HOSTILE, phase: "succeeded", status: HOSTILE, summary: HOSTILE,
      jobs: [{ id: "j", service: HOSTILE, targetFn: HOSTILE, status: HOSTILE, resultType: HOSTILE, approvalRequested: false, approved: null, error: HOSTILE }],
      input_requests: [{ id: "r", type: "approval", jobId: "j", description: HOSTILE, outcome: null }],
      preview: { columns: [HOSTILE], rows: [[HOSTILE]], total: 1 },
      text: HOSTILE,
    }), images: [image(HOSTILE)] };
    const failed = taskRun({ id: "f", phase: "failed", status: "Failed", error: HOSTILE, label: HOSTILE });
    const blobs = stubBlobUrls();
    const { el, model } = await mount({ runs: [failed, run], current: "run-1", server: HOSTILE, apps: [], schema_examples: [{ label: HOSTILE, schema: {} }] });
    const imgs = () => Array.from(el.querySelectorAll("img"));
    // The one image is the result image itself, its name as alt text.
    expect(imgs().map((i) => i.getAttribute("src"))).toEqual(blobs.made);
    expect(imgs()[0]!.alt).toBe(HOSTILE);
    expect(el.querySelector("th")!.textContent).toBe(HOSTILE);
    expect(el.querySelector("td")!.textContent).toBe(HOSTILE);
    expect(el.querySelector(".inb-summary")!.textContent).toBe(HOSTILE);
    expect(el.querySelector(".inb-job-error")!.textContent).toBe(HOSTILE);
    expect(el.querySelector(".inb-request-text")!.textContent).toBe(HOSTILE);
    expect(el.querySelector(".inb-run-label")!.textContent).toBe(HOSTILE);
    expect(el.querySelector(".inb-server")!.textContent).toBe(`→ ${HOSTILE}`);
    model.set("current", "f");
    expect(imgs()).toEqual([]);
    expect(el.querySelector(".inb-failed")!.textContent).toBe(`Failed: ${HOSTILE}`);
    expect(el.querySelectorAll("[onerror]")).toHaveLength(0);
  });
});

describe("lifecycle", () => {
  it("removes its listeners and timers on cleanup", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(at(2500));
    const { model, cleanup, listenerCount, $ } = await mount({ runs: [taskRun()], current: "task-1" });
    expect(listenerCount()).toBeGreaterThan(0);
    await cleanup();
    expect(listenerCount()).toBe(0);
    model.set("message", "after cleanup");
    expect($<HTMLTextAreaElement>('[data-field="message"] textarea')!.value).toBe("");
    vi.advanceTimersByTime(1000);
    expect($(".inb-elapsed")!.textContent).toBe("2.5 s");
    expect(vi.getTimerCount()).toBe(0);
  });
});
