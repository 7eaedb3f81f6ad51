// The server badge: an anywidget front end that shows the embedded server's URL,
// its app count and status, and a Ping button that round-trips a custom message
// through the kernel. Custom messages, not synced input traits, carry clicks:
// see DESIGN.md §4 for why.
import type { Render } from "@anywidget/types";
import css from "./widget.css";
import type { BadgeTraits, KernelMessage, PingMessage } from "./types";

function isKernelMessage(msg: unknown): msg is KernelMessage {
  if (typeof msg !== "object" || msg === null) return false;
  const m = msg as Record<string, unknown>;
  if (m.type === "pong") return typeof m.id === "string" && Array.isArray(m.apps);
  if (m.type === "error") return typeof m.message === "string";
  return false;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = "") {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function appCountText(n: number): string {
  return n === 1 ? "1 app" : `${n} apps`;
}

// A random prefix per view: every view of a model receives every reply, and a
// view must only show answers to its own pings. Not crypto.randomUUID(): it is
// missing outside secure contexts (JupyterLab over plain http on a remote host).
function idPrefix(): string {
  return Math.random().toString(36).slice(2, 10);
}

const render: Render<BadgeTraits> = ({ model, el }) => {
  const style = document.createElement("style");
  style.textContent = css;

  const root = element("div", "inb-badge");
  const head = element("div", "inb-badge-row");
  const title = element("span", "inb-badge-title", "Inference server");
  const status = element("span", "inb-badge-status");
  head.append(title, status);

  const body = element("div", "inb-badge-row");
  const url = element("code", "inb-badge-url");
  const count = element("span", "inb-badge-count");
  const ping = element("button", "inb-badge-ping", "Ping");
  ping.type = "button";
  body.append(url, count, ping);

  const reply = element("div", "inb-badge-reply");
  reply.setAttribute("role", "status");
  root.append(head, body, reply);
  el.append(style, root);

  // textContent everywhere: trait values and replies are data, never markup.
  const update = () => {
    url.textContent = model.get("server_url") || "(no server)";
    count.textContent = appCountText(model.get("app_count"));
    status.textContent = model.get("status");
  };
  update();

  const prefix = idPrefix();
  let sent = 0;
  let awaiting: string | null = null;
  const onClick = () => {
    awaiting = `${prefix}-${++sent}`;
    const msg: PingMessage = { type: "ping", id: awaiting };
    model.send(msg);
    reply.removeAttribute("data-kind");
    reply.textContent = "ping…";
  };
  ping.addEventListener("click", onClick);

  const onMessage = (msg: unknown) => {
    if (!isKernelMessage(msg) || msg.id !== awaiting) return;
    reply.dataset.kind = msg.type;
    reply.textContent =
      msg.type === "pong"
        ? `pong: ${msg.apps.length ? msg.apps.join(", ") : "no apps"}`
        : `error: ${msg.message}`;
  };

  const traitEvents = ["change:server_url", "change:app_count", "change:status"] as const;
  for (const event of traitEvents) model.on(event, update);
  model.on("msg:custom", onMessage);

  // The model outlives its views (re-rendered outputs, closed tabs): drop our
  // listeners from it, or they would keep writing into a detached element.
  return () => {
    for (const event of traitEvents) model.off(event, update);
    model.off("msg:custom", onMessage);
    ping.removeEventListener("click", onClick);
  };
};

export default { render };
