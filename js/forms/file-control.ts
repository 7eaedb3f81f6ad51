// A file field (the server's `File`): pick a local file, uploaded by the kernel on
// Submit, or give the URI of a file already on the server.
import { errorLine, h, named, setError, uniqueId } from "../dom";
import { checkValue } from "../validate";
import type { Control } from "./control";
import type { FieldSpec } from "./fields";
import { helpLine, requiredMark } from "./labels";

/**
 * The largest file the widget sends. Its bytes travel in one message over the
 * notebook's websocket, and Jupyter Server (tornado) closes that websocket on a
 * message over 10 MiB by default, cutting the page off from the kernel; a
 * bigger file is uploaded from code (`client.upload(path)`) and its URI given here.
 */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** "812 bytes", "3.4 KiB", "12.0 MiB". */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function tooBig(file: File): string | null {
  if (file.size <= MAX_FILE_BYTES) return null;
  return `${file.name} is ${sizeText(file.size)}; the widget sends files up to ${sizeText(MAX_FILE_BYTES)}. ` +
    "Upload a bigger one from code (client.upload(path)) and paste the URI it returns below.";
}

const URI = /^[a-z][a-z0-9+.-]*:/i;

export function fileControl(spec: FieldSpec): Control {
  const id = uniqueId("file");
  const uriId = uniqueId("file-uri");
  const input = h("input", { id, type: "file" });
  const name = h("span", { class: "inb-file-name" });
  const size = h("span", { class: "inb-file-size" });
  const remove = h("button", { type: "button", class: "inb-file-remove" }, "Remove");
  const chosenLine = h("div", { class: "inb-file-chosen", id: uniqueId("chosen") }, name, " ", size, " ", remove);
  const uri = h("input", { id: uriId, type: "text", class: "inb-code", placeholder: "https://…/files/…", spellcheck: "false" });
  const uriRow = h("div", { class: "inb-file-uri" },
    h("label", { for: uriId }, "or the URI of a file on the server"), uri);
  const help = helpLine(spec);
  const error = errorLine();
  input.setAttribute("aria-describedby", [chosenLine.id, help?.id, error.id].filter(Boolean).join(" "));
  uri.setAttribute("aria-describedby", error.id);
  if (spec.required) input.setAttribute("aria-required", "true");
  const el = h("div", { class: "inb-field inb-kind-file", "data-field": spec.path },
    h("label", { class: "inb-label", for: id }, spec.label, requiredMark(spec)),
    h("div", { class: "inb-control" }, input, chosenLine, uriRow, help, error));

  let chosen: File | null = null;
  const show = () => {
    chosenLine.hidden = chosen === null;
    name.textContent = chosen?.name ?? "";
    size.textContent = chosen ? `(${sizeText(chosen.size)})` : "";
    remove.setAttribute("aria-label", chosen ? `Remove ${chosen.name}` : "Remove");
    // One source per field: while a file is chosen, it is what is sent.
    uri.disabled = chosen !== null;
  };
  const choose = (file: File | null) => {
    chosen = file;
    if (file === null) input.value = "";
    show();
  };
  input.addEventListener("change", () => choose(input.files?.[0] ?? null));
  remove.addEventListener("click", () => {
    choose(null);
    setError(error, input, null);
    input.focus(); // the button just vanished: keep the keyboard where the choice is made again
  });
  show();

  const control: Control = {
    spec,
    el,
    read: () => {
      // The kernel uploads the chosen file and puts its URI in the input: no value here.
      if (chosen) return { value: undefined, problem: tooBig(chosen) };
      const text = uri.value.trim();
      if (text === "") {
        if (spec.nullable) return { value: null, problem: null };
        return { value: undefined, problem: spec.required ? "required: choose a file or give its URI" : null };
      }
      return { value: text, problem: URI.test(text) ? null : "a URI starts with its scheme, like https://" };
    },
    accepts: (value) => (value === undefined || (value === null && spec.nullable) ? null : checkValue(spec, value)),
    write: (value) => {
      const given = typeof value === "string" ? value :
        value !== null && typeof value === "object" && typeof (value as { uri?: unknown }).uri === "string"
          ? (value as { uri: string }).uri : "";
      // A URI written here (raw JSON, a value from Python) replaces a chosen file; nothing keeps it.
      if (given) choose(null);
      uri.value = given;
    },
    showProblem: (problem) => setError(error, input, problem === null ? null : named(spec.label, problem, spec.path)),
    leaves: () => [control],
    focus: () => (chosen || !uri.value ? input : uri).focus(),
    file: () => chosen,
  };
  return control;
}
