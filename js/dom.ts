// DOM building for the whole front end. Everything a run or the kernel hands us
// is data: it goes in through text nodes and attributes, never through HTML
// parsing (no innerHTML anywhere), so `<img onerror=…>` in a result stays text.

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

/** An element with attributes (false/null/undefined leave one out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

// anywidget evaluates this module once per widget model (docs/ARCHITECTURE.md,
// "Ids unique on the page"), so a counter alone restarts for every widget on the
// page (ids repeated, a label focused another widget's control). The random part
// is drawn once per evaluation; the counter keeps ids distinct within it.
const pageUnique = Math.random().toString(36).slice(2, 10);
let counter = 0;

/** An id no other element of the document has, for labels and aria references. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `inb-${pageUnique}-${prefix}-${counter}`;
}

/** An inline error line, announced to screen readers when it changes. */
export function errorLine(id = uniqueId("err")): HTMLDivElement {
  const line = h("div", { class: "inb-error", id, "aria-live": "polite" });
  line.hidden = true;
  return line;
}

/**
 * "Width: must be ≤ 1024": the field's label once, whether or not the problem already
 * names the field by its `path` (the kernel's words: "input.width: must be ≤ 1024").
 */
export function named(label: string, problem: string, path: string = label): string {
  for (const prefix of [`${path}:`, `input.${path}:`, `${label}:`]) {
    if (problem.startsWith(prefix)) return `${label}:${problem.slice(prefix.length)}`;
  }
  return `${label}: ${problem}`;
}

/** Show (or hide, for null) an error line, and mark the control it describes. */
export function setError(line: HTMLElement, control: HTMLElement | null, message: string | null): void {
  line.textContent = message ?? "";
  line.hidden = message === null;
  if (!control) return;
  if (message === null) control.removeAttribute("aria-invalid");
  else control.setAttribute("aria-invalid", "true");
}

/**
 * Make `parent`'s children match `items`, reusing the element of each key.
 * Views of live runs update several times a second: re-creating their elements
 * would drop focus from a button and close a hover title under the mouse.
 */
export function syncKeyed<T>(
  parent: HTMLElement,
  items: readonly T[],
  key: (item: T) => string,
  create: (item: T) => HTMLElement,
  update: (node: HTMLElement, item: T) => void,
): void {
  const existing = new Map<string, HTMLElement>();
  for (const node of Array.from(parent.children)) {
    if (node instanceof HTMLElement && node.dataset.key !== undefined) existing.set(node.dataset.key, node);
  }
  let previous: HTMLElement | null = null;
  for (const item of items) {
    const k = key(item);
    let node = existing.get(k);
    existing.delete(k);
    if (!node) {
      node = create(item);
      node.dataset.key = k;
    }
    update(node, item);
    const wanted: ChildNode | null = previous ? previous.nextSibling : parent.firstChild;
    if (wanted !== node) parent.insertBefore(node, wanted);
    previous = node;
  }
  for (const stale of existing.values()) stale.remove();
}
