// The inference widget (anywidget ESM): the Ask and App forms, Submit and
// Cancel, and the current run's status, jobs and result, with a history of
// runs. Traits come from the kernel only; clicks go back as custom messages.
// Its styles (widget.css) reach the page once, through js/loader.ts.
import type { Render } from "@anywidget/types";
import type { RunInput, RunView, WidgetTraits } from "./types";
import { h } from "./dom";
import { AskPanel } from "./forms/ask";
import { AppPanel } from "./forms/app";
import type { Panel } from "./forms/panel";
import type { SendCheck } from "./forms/remote-check";
import { HistoryView } from "./history";
import { matchApp, rerunRequest, schemaText } from "./run-input";
import { JobsView } from "./jobs";
import { keepKeys } from "./keys";
import { snapshotNote as makeSnapshotNote, watchKernel } from "./liveness";
import { Messenger, onTraits, type SubmitRequest } from "./messages";
import { ResultsView } from "./results";
import { RunStore } from "./run-store";
import { StatusBar } from "./status-bar";
import { Tabs, type Mode } from "./tabs";
import { isTerminal } from "./time";

/** How often live timings tick. */
const TICK_MS = 200;
/** How long "Submitting…" waits before saying the kernel has not answered. */
const ANSWER_TIMEOUT_MS = 15_000;

type NoticeKind = "info" | "error" | "warn";

const render: Render<WidgetTraits> = ({ model, el }) => {
  const notice = h("div", { class: "inb-notice", role: "status" });
  const say = (text: string, kind: NoticeKind = "info") => {
    notice.textContent = text;
    notice.dataset.kind = kind;
  };
  const messenger = new Messenger(model, (reply) => reply.type === "refused" && say(reply.message, "error"));

  const sendCheck: SendCheck = (request, onReply) => messenger.send(request, onReply);
  const ask = new AskPanel(model, sendCheck);
  const app = new AppPanel(model, sendCheck);
  const panels: Record<Mode, Panel> = { ask, app };
  const tabs = new Tabs({ ask: panels.ask.el, app: panels.app.el }, () => say(""));
  const server = h("span", { class: "inb-server", title: "Where runs go" });
  const submitButton = h("button", { type: "button", class: "inb-primary" }, "Submit");
  const cancelButton = h("button", { type: "button", class: "inb-cancel" }, "Cancel");
  const actions = h("div", { class: "inb-actions" }, submitButton, cancelButton,
    h("span", { class: "inb-hint" }, "Ctrl/⌘+Enter submits"), notice);

  const bar = new StatusBar();
  const jobs = new JobsView((runId, request, approved) => {
    if (request.jobId === null || snapshot) return;
    messenger.send({ type: "approve", run_id: runId, job_id: request.jobId, approved }, (reply) => {
      if (reply.type !== "refused") return;
      jobs.reopen(request.id);
      say(reply.message, "error");
    });
  });
  const results = new ResultsView();
  const history = new HistoryView({
    select: (runId) => {
      if (snapshot) {  // no kernel to ask: show that run's saved view here
        localCurrent = runId;
        updateRuns();
        return;
      }
      messenger.send({ type: "select", run_id: runId }, (reply) => reply.type === "refused" && say(reply.message, "error"));
    },
    load: (input) => load(input),
    rerun: (input) => {
      if (snapshot || awaiting !== null || reading) return;
      const request = rerunRequest(input);
      submitButton.disabled = true;
      send(request.mode, request, []);
    },
  });

  const snapshotNote = makeSnapshotNote();
  const root = h("div", { class: "inb-widget" },
    snapshotNote,
    h("div", { class: "inb-head" }, tabs.list, server),
    panels.ask.el, panels.app.el, actions, bar.el, jobs.el, results.el, history.el);
  el.append(root);

  // No kernel object behind this view (liveness.ts): a read-only snapshot.
  let snapshot = false;
  /** The run picked in the history of a snapshot (the kernel picks it when live). */
  let localCurrent: string | null = null;
  let awaiting: string | null = null;
  let reading = false;
  let answerTimer: ReturnType<typeof setTimeout> | undefined;
  const cancelling = new Set<string>();

  const submit = () => {
    if (awaiting !== null || reading || snapshot) return;
    const mode = tabs.mode;
    const submission = panels[mode].collect();
    if (!submission) {
      say("Not sent: fix what is marked above.", "error");
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
        submitButton.disabled = snapshot;
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
      clearTimeout(answerTimer);
      awaiting = null;
      submitButton.disabled = snapshot;
      if (reply.type === "accepted") {
        say("");
        return;
      }
      const shown = reply.field !== null && panels[mode].showProblem(reply.field, reply.message);
      say(shown ? "Not started: see the field marked above." : `Not started: ${reply.message}`, "error");
    }, buffers);
    awaiting = id;
    answerTimer = setTimeout(() => {
      awaiting = null;
      submitButton.disabled = snapshot;
      say("No answer from the kernel yet: is it busy or stopped? You can submit again.", "warn");
    }, ANSWER_TIMEOUT_MS);
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
    say(input.complete ? "Loaded into the form." : "Loaded into the form; part of that input was not kept (a secret, file data or a long value): complete it before submitting.",
      input.complete ? "info" : "warn");
  };

  const shownId = () => localCurrent ?? model.get("current");
  const currentRun = (): RunView | null => store.find(shownId());

  const updateCancel = () => {
    const run = currentRun();
    const live = run !== null && !isTerminal(run);
    const asked = run !== null && cancelling.has(run.id);
    cancelButton.disabled = snapshot || !live || asked;
    cancelButton.textContent = live && asked ? "Cancelling…" : "Cancel";
  };

  const cancel = () => {
    const run = currentRun();
    if (!run || isTerminal(run) || snapshot) return;
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
    history.update(store.runs, shownId(), now);
  };
  const updateRuns = () => {
    const run = currentRun();
    tick();
    jobs.update(run);
    if (snapshot) jobs.el.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    results.update(run);
    updateCancel();
    // Tick only while something is live: a notebook can hold many idle widgets.
    const live = !snapshot && store.runs.some((r) => !isTerminal(r));
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

  const setSnapshot = (on: boolean) => {
    snapshot = on;
    snapshotNote.hidden = !on;
    root.classList.toggle("inb-is-snapshot", on);
    localCurrent = null;
    clearTimeout(answerTimer);
    awaiting = null;
    submitButton.disabled = on;
    say("");
    updateRuns();
  };

  const store = new RunStore(model, updateRuns);
  tabs.select(model.get("mode"));
  showServer();
  store.sync();
  const stopWatching = watchKernel(messenger, setSnapshot);
  const offs = [
    onTraits(model, ["runs"], () => store.sync()),
    onTraits(model, ["current"], updateRuns),
    onTraits(model, ["mode"], () => tabs.select(model.get("mode"))),
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
    stopWatching();
    clearTimeout(answerTimer);
  };
};

export default { render };
