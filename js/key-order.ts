// Key order restored after saving (docs/ARCHITECTURE.md, "The widget": order survives saving).
// nbformat saves widget state with sorted keys, so data whose order means something (a
// schema's fields, a run's input) carries `key_order`: for each object below it whose keys
// were not sorted, its keys in order by JSON pointer (inference_nb/widget/key_order.py).
import { isPlainObject } from "./json";

/** Data that may carry the key order of the objects below it. */
export type Ordered<T> = T & { key_order?: Record<string, string[]> };

/** `value` with each object named in its `key_order` rebuilt in that order (a copy; the original is left alone). */
export function inOrder<T>(value: Ordered<T>): T {
  if (!isPlainObject(value) || !isPlainObject(value.key_order)) return value;
  const { key_order: orders, ...rest } = value as Record<string, unknown> & { key_order: Record<string, unknown> };
  const ordered: Record<string, unknown> = structuredClone(rest);
  for (const [pointer, keys] of Object.entries(orders)) {
    const path = pointer.split("/").slice(1).map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = path.pop();
    let parent: unknown = ordered;
    for (const part of path) parent = step(parent, part);
    const target = last === undefined ? undefined : step(parent, last);
    if (!Array.isArray(keys) || !isPlainObject(target) || last === undefined) continue;
    const rebuilt: Record<string, unknown> = {};
    for (const key of keys) if (typeof key === "string" && key in target) rebuilt[key] = target[key];
    for (const key of Object.keys(target)) if (!(key in rebuilt)) rebuilt[key] = target[key];
    (parent as Record<string, unknown>)[last] = rebuilt;
  }
  return ordered as T;
}

function step(node: unknown, part: string): unknown {
  if (Array.isArray(node)) return node[Number(part)];
  return isPlainObject(node) ? node[part] : undefined;
}
