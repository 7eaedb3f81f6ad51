// What every field's control shows around it: the required mark and the help line
// (shared by controls.ts and file-control.ts).
import { h, uniqueId } from "../dom";
import type { FieldSpec } from "./fields";

export function requiredMark(spec: FieldSpec): HTMLElement | null {
  return spec.required ? h("span", { class: "inb-required", title: "required" }, " *") : null;
}

export function helpLine(spec: FieldSpec): HTMLElement | null {
  const bits = [spec.description];
  const s = spec.schema;
  if (typeof s.minimum === "number" && typeof s.maximum === "number") bits.push(`(${s.minimum} – ${s.maximum})`);
  else if (typeof s.minimum === "number") bits.push(`(≥ ${s.minimum})`);
  else if (typeof s.maximum === "number") bits.push(`(≤ ${s.maximum})`);
  if (spec.kind === "json") bits.push("(JSON)");
  const text = bits.filter(Boolean).join(" ");
  return text ? h("div", { class: "inb-help", id: uniqueId("help") }, text) : null;
}
