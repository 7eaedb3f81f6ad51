// The official JS SDK, @inferencesh/sdk (pinned in package.json), driven unchanged against a running
// embedded server: INFERENCE_BASE_URL and INFERENCE_TOKEN name it (tests/compat/test_js_sdk.py starts
// it on loopback and runs this file with node).
//
// Each `flow(name, fn)` is one user flow; they run one after another and each prints one JSON line,
// {"flow", "ok", "error"?}, which the pytest module reads as one test per flow. A flow asserts with
// node:assert; a failure or a hang past FLOW_TIMEOUT_MS is that flow's error.
//
// Plain Node cannot import the SDK: its compiled ESM imports lack `.js` extensions. So a resolve
// hook (extensionless_hook.mjs) is registered first with module.register, and the SDK imported after.

import assert from "node:assert/strict";
import { register } from "node:module";

register("./extensionless_hook.mjs", import.meta.url);
const { Inference, InferenceError, TaskStatusCompleted, TaskStatusRunning, parseStatus, isTerminalStatus } =
  await import("@inferencesh/sdk");

const baseUrl = process.env.INFERENCE_BASE_URL;
const apiKey = process.env.INFERENCE_TOKEN;
const client = new Inference({ apiKey, baseUrl });
const polling = new Inference({ apiKey, baseUrl, stream: false, pollIntervalMs: 50 });

const FLOW_TIMEOUT_MS = 30_000;
const CSV = "name,qty\nSonic Screwdriver,10\nTowel,5\n";
const CSV_QUERY = "SELECT name, qty FROM uploaded ORDER BY qty DESC";
const CSV_ROWS = [
  { name: "Sonic Screwdriver", qty: 10 },
  { name: "Towel", qty: 5 },
];
const LONG_SLEEP = { app: "demo/sleep", input: { seconds: 60 } };
const flows = [];
const state = {}; // what one flow leaves for a later one (the session flows)

function flow(name, fn) {
  flows.push([name, fn]);
}

/** The InferenceError `promise` rejects with; its message must be the server's text, not raw JSON. */
async function inferenceError(promise, statusCode) {
  const error = await promise.then(
    (value) => assert.fail(`expected an HTTP ${statusCode} error, got ${JSON.stringify(value)}`),
    (caught) => caught,
  );
  assert.ok(error instanceof InferenceError, `not an InferenceError: ${error}`);
  assert.equal(error.statusCode, statusCode, error.message);
  assert.doesNotMatch(error.message, /^HTTP \d+: \{/, "the SDK shows the raw JSON body");
  return error;
}

async function fetchText(uri) {
  const answer = await fetch(uri, { headers: { Authorization: `Bearer ${apiKey}` } });
  return [answer.status, await answer.text()];
}

/** The statuses of `updates`, numbered as the SDK reads them. */
const statuses = (updates) => updates.map((task) => parseStatus(task.status));

flow("run_waits_streaming", async () => {
  const updates = [];
  const task = await client.run(
    { app: "demo/sleep", input: { seconds: 0.2, message: "hi" } },
    { onUpdate: (t) => updates.push(t) },
  );
  assert.equal(parseStatus(task.status), TaskStatusCompleted);
  assert.equal(task.output.message, "hi");
  assert.equal(statuses(updates).at(-1), TaskStatusCompleted);
});

flow("run_waits_polling", async () => {
  const updates = [];
  const task = await polling.run(
    { app: "demo/sleep", input: { seconds: 0.2, message: "polled" } },
    { onUpdate: (t) => updates.push(t) },
  );
  assert.equal(parseStatus(task.status), TaskStatusCompleted);
  assert.equal(task.output.message, "polled");
  assert.equal(statuses(updates).at(-1), TaskStatusCompleted);
});

flow("run_without_waiting", async () => {
  const task = await client.run(LONG_SLEEP, { wait: false });
  assert.ok(task.id.startsWith("task_"), task.id);
  assert.ok(!isTerminalStatus(task.status), `already ended: ${task.status}`);
  await client.cancel(task.id);
});

flow("on_update_sees_every_change_in_order", async () => {
  const updates = [];
  await client.run({ app: "demo/sleep", input: { seconds: 0.3, steps: 3 } }, { onUpdate: (t) => updates.push(t) });
  const seen = statuses(updates);
  assert.deepEqual(
    seen,
    [...seen].sort((a, b) => a - b),
    `out of order: ${seen}`,
  );
  assert.ok(seen.includes(TaskStatusRunning), `never Running: ${seen}`);
  assert.equal(seen.at(-1), TaskStatusCompleted);
  assert.ok(
    updates.some((t) => t.progress?.total === 3),
    "no progress update",
  );
});

flow("cancel_ends_the_wait", async () => {
  let cancelled;
  const waited = client.run(LONG_SLEEP, {
    onUpdate: (t) => {
      if (parseStatus(t.status) === TaskStatusRunning && !cancelled) cancelled = client.cancel(t.id);
    },
  });
  await assert.rejects(waited, /task cancelled/);
  const answer = await cancelled;
  assert.equal(answer.data.cancelled, true);
  assert.equal((await client.tasks.get(answer.data.id)).data.status, 12);
});

flow("a_failing_app_rejects_with_its_error", async () => {
  const failing = { app: "demo/fail", input: { message: "the disk is full" } };
  await assert.rejects(client.run(failing), /the disk is full/);
  await assert.rejects(polling.run(failing), /the disk is full/);
});

flow("error_401_wrong_key", async () => {
  const wrong = new Inference({ apiKey: "inf_wrong_key_123", baseUrl });
  for (const call of [() => wrong.run({ app: "demo/sleep", input: {} }), () => wrong.tasks.get("task_x")]) {
    const error = await inferenceError(call(), 401);
    assert.match(error.message, /the token does not match/);
    assert.ok(!error.responseBody.includes("inf_wrong_key_123"), "the key is echoed");
  }
});

flow("error_404_unknown_app_and_task", async () => {
  const app = await inferenceError(client.run({ app: "demo/nope", input: {} }), 404);
  assert.match(app.message, /no app named 'demo\/nope'; apps on this server: demo\/chart/);
  const task = await inferenceError(client.tasks.get("task_nope"), 404);
  assert.equal(task.message, "HTTP 404: no task 'task_nope'");
});

flow("error_404_no_such_endpoint", async () => {
  const logs = await inferenceError(client.tasks.getLogs("task_nope"), 404);
  assert.match(logs.message, /no such endpoint: GET \/tasks\/task_nope\/logs/);
  const version = await inferenceError(client.apps.getByVersionId("demo/counter", "v1"), 404);
  assert.match(version.message, /no such endpoint/);
});

flow("error_422_names_the_field", async () => {
  const error = await inferenceError(client.run({ app: "demo/sleep", input: { seconds: -1 } }), 422);
  assert.match(error.message, /input\.seconds: Input should be greater than or equal to 0/);
  const fn = await inferenceError(client.run({ app: "demo/counter", function: "explode", input: {} }), 422);
  assert.match(fn.message, /has no function 'explode'; its functions: run, get, increment, init, reset/);
});

flow("function_runs_the_named_function", async () => {
  const named = await client.run({ app: "demo/counter", function: "reset", input: { note: "n" } });
  assert.deepEqual([named.output.action, named.output.count, named.output.notes], ["reset", 0, ["n"]]);
  const inReference = await client.run({ app: "demo/counter@1.0.0:increment", input: { amount: 5 } });
  assert.equal(inReference.output.action, "increment");
});

flow("session_new", async () => {
  const task = await client.run({ app: "demo/counter", input: { action: "init", note: "start" }, session: "new" });
  assert.ok(task.session_id?.startsWith("sess_"), `no session id: ${task.session_id}`);
  assert.deepEqual([task.output.count, task.output.calls], [0, 1]);
  state.session = task.session_id;
});

flow("session_continue", async () => {
  assert.ok(state.session, "needs session_new");
  const call = (fn, input) => client.run({ app: "demo/counter", function: fn, input, session: state.session });
  assert.equal((await call("increment", { amount: 5 })).output.count, 5);
  const got = await call("get", { note: "again" });
  assert.deepEqual([got.output.count, got.output.calls, got.output.notes], [5, 3, ["start", "again"]]);
  assert.equal(got.session_id, state.session);
});

flow("session_get", async () => {
  assert.ok(state.session, "needs session_new");
  const session = (await client.sessions.get(state.session)).data;
  assert.equal(session.id, state.session);
  assert.deepEqual(
    [session.status, session.app_id, session.idle_timeout, session.call_count],
    ["active", "demo/counter@1.0.0", 300, 3],
  );
  assert.ok(session.expires_at > session.last_call_at, `${session.expires_at} <= ${session.last_call_at}`);
});

flow("session_list", async () => {
  assert.ok(state.session, "needs session_new");
  const listed = (await client.sessions.list()).data;
  assert.equal(listed.find((s) => s.id === state.session)?.status, "active");
});

flow("session_keepalive", async () => {
  assert.ok(state.session, "needs session_new");
  const before = (await client.sessions.get(state.session)).data;
  const kept = (await client.sessions.keepalive(state.session)).data;
  assert.equal(kept.status, "active");
  assert.ok(kept.expires_at >= before.expires_at, `${kept.expires_at} < ${before.expires_at}`);
});

flow("session_end_then_410", async () => {
  assert.ok(state.session, "needs session_new");
  const ended = (await client.sessions.end(state.session)).data;
  assert.deepEqual([ended.id, ended.status], [state.session, "ended"]);
  assert.equal((await client.sessions.get(state.session)).data.status, "ended");
  const gone = await inferenceError(
    client.run({ app: "demo/counter", function: "get", input: {}, session: state.session }),
    410,
  );
  assert.match(gone.message, /ended by request/);
  await inferenceError(client.sessions.keepalive(state.session), 410);
});

flow("session_new_starts_fresh_after_one_off_runs", async () => {
  for (let i = 0; i < 3; i++) await client.run({ app: "demo/counter", input: { action: "increment" } });
  const fresh = await client.run({ app: "demo/counter", input: { action: "increment" }, session: "new" });
  assert.deepEqual([fresh.output.count, fresh.output.calls], [1, 1]);
  await client.sessions.end(fresh.session_id);
});

flow("upload_file_data_uri", async () => {
  const file = await client.uploadFile(`data:text/csv;base64,${Buffer.from(CSV).toString("base64")}`);
  assert.equal(file.content_type, "text/csv");
  assert.deepEqual(await fetchText(file.uri), [200, CSV]);
});

flow("upload_file_blob", async () => {
  const file = await client.uploadFile(new Blob([CSV], { type: "text/csv" }), { filename: "stock.csv" });
  assert.deepEqual([file.filename, file.content_type, file.size], ["stock.csv", "text/csv", CSV.length]);
  assert.deepEqual(await fetchText(file.uri), [200, CSV]);
});

flow("uploaded_uri_as_a_file_input", async () => {
  const file = await client.uploadFile(new Blob([CSV], { type: "text/csv" }), { filename: "stock.csv" });
  const byUri = await client.run({ app: "demo/sql", input: { query: CSV_QUERY, csv_file: file.uri } });
  assert.deepEqual(byUri.output.rows, CSV_ROWS);
  // Data in the input: the SDK uploads a Blob (or a data URI) itself and sends its uri.
  const byBlob = await client.run({
    app: "demo/sql",
    input: { query: CSV_QUERY, csv_file: new Blob([CSV], { type: "text/csv" }) },
  });
  assert.deepEqual(byBlob.output.rows, CSV_ROWS);
  assert.match(byBlob.input.csv_file, /^http:\/\/127\.0\.0\.1:\d+\/files\//);
});

flow("tasks_get_and_delete", async () => {
  const task = await client.run({ app: "demo/sleep", input: { seconds: 0 } });
  const got = (await client.tasks.get(task.id)).data;
  assert.deepEqual([got.id, parseStatus(got.status), got.output.message], [task.id, TaskStatusCompleted, "done"]);
  assert.equal((await client.tasks.delete(task.id)).data, undefined); // a 204
  await inferenceError(client.tasks.get(task.id), 404);
});

flow("tasks_list", async () => {
  const made = [];
  for (let i = 0; i < 3; i++) made.push((await client.run({ app: "demo/sleep", input: { seconds: 0 } }, { wait: false })).id);
  const first = (await client.tasks.list({ limit: 2 })).data;
  assert.deepEqual(
    first.items.map((t) => t.id),
    [made[2], made[1]],
  );
  assert.equal(first.has_next, true);
  assert.ok(first.total_items >= 3, `total ${first.total_items}`);
  const next = (await client.tasks.list({ cursor: first.next_cursor, limit: 2 })).data;
  assert.equal(next.items[0].id, made[0]);
  const byPage = (await client.tasks.list({ page: 2, limit: 2 })).data;
  assert.deepEqual(
    byPage.items.map((t) => t.id),
    next.items.map((t) => t.id),
  );
});

flow("apps_list", async () => {
  const page = (await client.apps.list({ limit: 100 })).data;
  const names = page.items.map((app) => `${app.namespace}/${app.name}`);
  for (const name of ["demo/counter", "demo/sleep", "demo/sql"]) assert.ok(names.includes(name), `${name} missing`);
  assert.equal(page.total_items, page.items.length);
  const counter = page.items.find((app) => app.name === "counter");
  assert.ok(counter.version.input_schema.properties.action, "no input schema");
  const small = (await client.apps.list({ limit: 2 })).data;
  assert.equal(small.items.length, 2);
  assert.equal(small.has_next, true);
});

flow("apps_get", async () => {
  const app = (await client.apps.get("demo/counter")).data;
  assert.deepEqual([app.namespace, app.name, app.version_id], ["demo", "counter", "demo/counter@1.0.0"]);
  assert.deepEqual(Object.keys(app.version.functions).sort(), ["get", "increment", "init", "reset", "run"]);
  assert.equal((await client.apps.getByName("demo/sleep")).data.version.input_schema.properties.seconds.type, "number");
  const unknown = await inferenceError(client.apps.get("demo/nope"), 404);
  assert.match(unknown.message, /no app named 'demo\/nope'/);
});

flow("stream_task_event_source", async () => {
  const task = await client.run({ app: "demo/sleep", input: { seconds: 0.2, steps: 2 } }, { wait: false });
  const source = await client.streamTask(task.id);
  const seen = await new Promise((resolve, reject) => {
    const got = [];
    source.onmessage = (event) => {
      const update = JSON.parse(event.data);
      got.push(parseStatus(update.status));
      if (isTerminalStatus(update.status)) resolve(got);
    };
    source.onerror = (event) => reject(new Error(`EventSource error: ${event.message ?? event.type}`));
  }).finally(() => source.close());
  assert.equal(seen.at(-1), TaskStatusCompleted);
  assert.deepEqual(
    seen,
    [...seen].sort((a, b) => a - b),
  );
});

async function runFlow(name, fn) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no end within ${FLOW_TIMEOUT_MS} ms`)), FLOW_TIMEOUT_MS);
  });
  try {
    await Promise.race([fn(), timeout]);
    return { flow: name, ok: true };
  } catch (error) {
    return { flow: name, ok: false, error: String(error?.stack ?? error) };
  } finally {
    clearTimeout(timer);
  }
}

for (const [name, fn] of flows) {
  process.stdout.write(`${JSON.stringify(await runFlow(name, fn))}\n`);
}
process.exit(0); // a flow that failed midway may leave a poll or a stream open
