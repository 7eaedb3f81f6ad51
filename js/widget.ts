// The inference widget (anywidget ESM): the Ask and App forms, Submit and
// Cancel, and the current run's status, jobs and result, with a history of
// runs. Traits come from the kernel only; clicks and what is typed go back as
// custom messages.
// Its styles (widget.css) reach the page once, through js/loader.ts.
import type { Render } from "@anywidget/types";
import type { RunInput, RunView, WidgetTraits } from "./types";
import { h } from "./dom";
import { AskPanel } from "./forms/ask";
import { AppPanel } from "./forms/app";
import type { Panel } from "./forms/panel";
import type { SendCheck } from "./forms/remote-check";
import { Announcer } from "./announce";
import { HistoryView } from "./history";
import { matchApp, rerunRequest, schemaText } from "./run-input";
import { JobsView } from "./jobs";
import { keepKeys } from "./keys";
import { KernelWatch, LivenessNote, type Liveness } from "./liveness";
import { Messenger, onTraits, type SubmitRequest } from "./messages";
import { ResultsView } from "./results";
import { RunStore } from "./run-store";
import { StatusBar } from "./status-bar";
import { Tabs, type Mode } from "./tabs";
import { isTerminal } from "./time";
import { TypedSync } from "./typed";

/** How often live timings tick. */
const TICK_MS = 200;
/** How long "Submitting…" stands before it says what it is waiting for. */
const SLOW_MS = 3_000;
/** How long a submit waits for the kernel before Submit is offered again. */
const ANSWER_TIMEOUT_MS = 15_000;

/** One wording for a Submit refused, wherever the refusal comes from: the first bad field and its problem. */
const notSent = (problem: string) => `Not sent: ${problem}`;
const NO_KERNEL = notSent("no kernel is behind this widget any more; re-run its cell.");

type NoticeKind = "info" | "error" | "warn";

const render: Render<WidgetTraits> = ({ model, el }) => {
  const notice = h("div", { class: "inb-notice", role: "status" });
  const say = (text: string, kind: NoticeKind = "info") => {
    notice.textContent = text;
    notice.dataset.kind = kind;
  };
  let watch: KernelWatch | undefined;
  const messenger = new Messenger(model, (reply) => reply.type === "refused" && say(reply.message, "error"),
    () => watch?.unsent());

  let typed: TypedSync | undefined;
  const isEcho = (trait: string, value: unknown) => typed?.isEcho(trait, value) ?? false;
  const sendCheck: SendCheck = (request, onReply) => messenger.send(request, onReply);
  const ask = new AskPanel(model, sendCheck, isEcho);
  const app = new AppPanel(model, sendCheck, isEcho);
  const panels: Record<Mode, Panel> = { ask, app };
  const tabs = new Tabs({ ask: panels.ask.el, app: panels.app.el }, () => {
    say("");
    typed?.schedule();
  });
  const server = h("span", { class: "inb-server", title: "Where runs go" });
  const submitButton = h("button", { type: "button", class: "inb-primary" }, "Submit");
  const cancelButton = h("button", { type: "button", class: "inb-cancel" }, "Cancel");
  const actions = h("div", { class: "inb-actions" }, submitButton, cancelButton,
    h("span", { class: "inb-hint" }, "Ctrl/⌘+Enter submits"), notice);

  const bar = new StatusBar();
  const announcer = new Announcer();
  const jobs = new JobsView((runId, request, approved) => {
    if (request.jobId === null || readOnly()) return;
    messenger.send({ type: "approve", run_id: runId, job_id: request.jobId, approved }, (reply) => {
      if (reply.type !== "refused") return;
      jobs.reopen(request.id);
      say(reply.message, "error");
    });
  });
  const results = new ResultsView();
  const history = new HistoryView({
    select: (runId) => {
      if (readOnly()) {  // no kernel to ask: show that run's saved view here
        localCurrent = runId;
        updateRuns();
        return;
      }
      messenger.send({ type: "select", run_id: runId }, (reply) => reply.type === "refused" && say(reply.message, "error"));
    },
    load: (input) => load(input),
    rerun: (input) => {
      if (readOnly() || awaiting !== null || reading) return;
      const request = rerunRequest(input);
      submitButton.disabled = true;
      send(request.mode, request, []);
    },
  });

  const note = new LivenessNote();
  const root = h("div", { class: "inb-widget" },
    note.el,
    h("div", { class: "inb-head" }, tabs.list, server),
    panels.ask.el, panels.app.el, actions, bar.el, jobs.el, results.el, history.el, announcer.el);
  el.append(root);

  // Is a kernel object behind this view (liveness.ts)? If not, it is read-only.
  let liveness: Liveness = "live";
  const readOnly = () => liveness !== "live";
  /** The run picked in the history of a read-only view (the kernel picks it when live). */
  let localCurrent: string | null = null;
  let awaiting: string | null = null;
  let reading = false;
  let answerTimer: ReturnType<typeof setTimeout> | undefined;
  let slowTimer: ReturnType<typeof setTimeout> | undefined;
  const cancelling = new Set<string>();

  const submit = () => {
    if (awaiting !== null || reading || readOnly()) return;
    const mode = tabs.mode;
    const submission = panels[mode].collect();
    if ("problem" in submission) {
      say(notSent(submission.problem), "error");
      return;
    }
    typed?.flush();  // the kernel keeps what was submitted as the form's contents
    if (readOnly()) {  // that message found no kernel
      say(NO_KERNEL, "error");
      return;
    }
    submitButton.disabled = true;
    if (!submission.blobs.length) {
      send(mode, submission.request, []);
      return;
    }
    // A chosen file's bytes are read now, not when it was picked: it may have changed since.
    say("Reading the file…");
    reading = true;
    Promise.all(submission.blobs.map((blob) => blob.arrayBuffer())).then(
      (buffers) => {
        reading = false;
        send(mode, submission.request, buffers);
      },
      (error: unknown) => {
        reading = false;
        submitButton.disabled = readOnly();
        say(`Not sent: the file could not be read (${error instanceof Error ? error.message : String(error)}).`, "error");
      },
    );
  };

  const send = (mode: Mode, request: SubmitRequest, buffers: ArrayBuffer[]) => {
    say(buffers.length ? "Uploading and submitting…" : "Submitting…");
    const id = messenger.send(request, (reply) => {
      // A late answer (after the timeout) still updates the notice; an answer to
      // an older submit while a newer one waits does not.
      if (id !== awaiting && awaiting !== null) return;
      stopWaiting();
      if (reply.type === "accepted") {
        say("");
        return;
      }
      const shown = reply.field !== null ? panels[mode].showProblem(reply.field, reply.message) : null;
      say(notSent(shown ?? reply.message), "error");
    }, buffers);
    if (id === null) {  // the page could not send it: the kernel is gone (the watch has marked the view)
      say(NO_KERNEL, "error");
      return;
    }
    awaiting = id;
    // Never "Submitting…" for long without a reason (a kernel gone shows at once, through the watch).
    slowTimer = setTimeout(() => {
      say(watch?.busy
        ? "Still waiting: the kernel is busy (a cell is running); the submit is taken when it is free."
        : "Still waiting for the kernel to take the submit…", "warn");
    }, SLOW_MS);
    answerTimer = setTimeout(() => {
      stopWaiting();
      say("No answer from the kernel yet: is it busy or stopped? You can submit again.", "warn");
    }, ANSWER_TIMEOUT_MS);
  };

  const stopWaiting = () => {
    clearTimeout(answerTimer);
    clearTimeout(slowTimer);
    awaiting = null;
    submitButton.disabled = readOnly();
  };

  const load = (input: RunInput) => {
    const found = input.kind === "app" ? matchApp(model.get("apps"), input.app) : null;
    if (input.kind === "app" && !found) {
      say(`Not loaded: this server has no app ${input.app}.`, "error");
      return;
    }
    tabs.select(input.kind);
    if (input.kind === "ask") ask.load(input.message, schemaText(input));
    else app.load(found!, input.values);
    typed?.schedule();
    say(input.complete ? "Loaded into the form." : "Loaded into the form; part of that input was not kept (a secret, file data or a long value): complete it before submitting.",
      input.complete ? "info" : "warn");
  };

  const shownId = () => localCurrent ?? model.get("current");
  const currentRun = (): RunView | null => store.find(shownId());

  const updateCancel = () => {
    const run = currentRun();
    const live = run !== null && !isTerminal(run);
    const asked = run !== null && cancelling.has(run.id);
    cancelButton.disabled = readOnly() || !live || asked;
    cancelButton.textContent = live && asked ? "Cancelling…" : "Cancel";
  };

  const cancel = () => {
    const run = currentRun();
    if (!run || isTerminal(run) || readOnly()) return;
    cancelling.add(run.id);
    updateCancel();
    messenger.send({ type: "cancel", run_id: run.id }, (reply) => {
      if (reply.type !== "refused") return;
      cancelling.delete(run.id);
      updateCancel();
      say(reply.message, "error");
    });
  };

  let ticker: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    const now = Date.now();
    bar.update(currentRun(), now);
    history.update(store.runs, shownId(), now, model.get("apps"), readOnly());
  };
  const updateRuns = () => {
    const run = currentRun();
    tick();
    jobs.update(run);
    if (readOnly()) jobs.el.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    results.update(run);
    announcer.update(run);
    updateCancel();
    // Tick only while something is live: a notebook can hold many idle widgets.
    const live = !readOnly() && store.runs.some((r) => !isTerminal(r));
    if (live && ticker === undefined) ticker = setInterval(tick, TICK_MS);
    if (!live && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };

  const showServer = () => {
    const where = model.get("server");
    server.textContent = where ? `→ ${where}` : "";
  };

  submitButton.addEventListener("click", submit);
  cancelButton.addEventListener("click", cancel);
  keepKeys(root, submit);

  const setLiveness = (state: Liveness) => {
    liveness = state;
    note.show(state);
    root.classList.toggle("inb-is-snapshot", readOnly());
    localCurrent = null;
    stopWaiting();
    say("");
    updateRuns();
  };

  const store = new RunStore(model, updateRuns);
  tabs.select(model.get("mode"));
  showServer();
  store.sync();
  typed = new TypedSync(
    () => ({ mode: tabs.mode, ...ask.typed(), ...app.typed() }),
    (changed) => !readOnly() && messenger.send({ type: "typed", ...changed }) !== null,
  );
  for (const panel of [ask.el, app.el]) {
    for (const type of ["input", "change"]) panel.addEventListener(type, () => typed?.schedule());
  }
  watch = new KernelWatch(messenger, model, setLiveness);
  const offs = [
    onTraits(model, ["runs"], () => store.sync()),
    onTraits(model, ["current"], updateRuns),
    onTraits(model, ["mode"], () => {
      if (!isEcho("mode", model.get("mode"))) tabs.select(model.get("mode"));
    }),
    onTraits(model, ["server"], showServer),
  ];

  // The model outlives its views (re-rendered outputs, closed tabs): drop our
  // listeners from it, or they would keep writing into a detached element.
  return () => {
    offs.forEach((off) => off());
    ask.destroy();
    app.destroy();
    messenger.dispose();
    store.dispose();
    clearInterval(ticker);
    watch?.stop();
    typed?.dispose();
    clearTimeout(answerTimer);
    clearTimeout(slowTimer);
  };
};

export default { render };
