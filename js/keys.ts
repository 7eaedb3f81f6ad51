// Keys typed in the widget stay in the widget (docs/ARCHITECTURE.md, "Keys inside the widget").
// A notebook takes single letters as commands while a cell is not being edited:
// `b` inserts a cell, `x` cuts one. JupyterLab leaves keys alone only when the
// focused element is an editable box, so a read-only box or a button let them
// through. Two guards, because front ends listen differently:
// - JupyterLab listens on the document while the event bubbles (it starts with
//   `bubblingKeydown: true`): stopping it at the widget's root is enough there;
// - Notebook 7 starts without that option, so it listens in the capture phase
//   and sees the key first; Lumino skips every shortcut whose target carries
//   `data-lm-suppress-shortcuts`, so the focused control is marked with it.

const SUPPRESS = "data-lm-suppress-shortcuts";

/** Boxes of one line, where Enter has nothing else to do: it submits, as in a web form. */
const ONE_LINE = new Set(["text", "number", "url", "email", "search"]);

function submits(event: KeyboardEvent): boolean {
  if (event.key !== "Enter" || event.isComposing) return false;
  if (event.ctrlKey || event.metaKey) return true;
  if (event.shiftKey || event.altKey) return false;
  const target = event.target;
  return target instanceof HTMLInputElement && ONE_LINE.has(target.type);
}

/** Keep key events from inside `root` away from the page; Ctrl/Cmd+Enter, or Enter in a one-line box, calls `submit`. */
export function keepKeys(root: HTMLElement, submit: () => void): void {
  root.setAttribute(SUPPRESS, "true");
  root.addEventListener("focusin", (event) => {
    if (event.target instanceof HTMLElement) event.target.setAttribute(SUPPRESS, "true");
  });
  root.addEventListener("keydown", (event) => {
    event.stopPropagation();
    if (!submits(event)) return;
    event.preventDefault();
    submit();
  });
  // Tab and typing keep their default action: only other listeners miss the event.
  for (const type of ["keyup", "keypress"] as const) root.addEventListener(type, (event) => event.stopPropagation());
}
