// The Ask form: a question and the JSON Schema its answer must fit.
import { h } from "../dom";
import { inOrder } from "../key-order";
import { onTraits, type Model } from "../messages";
import type { IsEcho } from "../typed";
import { checkMessage, checkSchemaText } from "../validate";
import { row, type Panel, type Refusal, type Row, type Submission } from "./panel";
import { RemoteCheck, type CheckState, type SendCheck } from "./remote-check";

export class AskPanel implements Panel {
  readonly el: HTMLElement;
  private readonly message = h("textarea", { rows: 3, placeholder: "What do you want to know?" });
  private readonly editor = h("textarea", { class: "inb-code", rows: 6, spellcheck: "false", placeholder: "{ } (empty: no schema)" });
  private readonly examples = h("select", { "aria-label": "Insert an example schema" });
  /** What the kernel said of the schema: checking…, ✓ valid, or nothing (a problem shows below instead). */
  private readonly status = h("div", { class: "inb-check", "aria-live": "polite" });
  private readonly lockNote = h("span", { class: "inb-note" }, "from a pydantic model");
  private readonly messageRow: Row;
  private readonly schemaRow: Row;
  private readonly remote: RemoteCheck;
  /** The schema text last sent to be checked: Submit does not check it again. */
  private checking: string | null = null;
  private readonly stop: () => void;

  /** `isEcho`: whether a trait's new value is only the kernel handing back what this view sent (typed.ts). */
  constructor(private readonly model: Model, sendCheck: SendCheck, isEcho: IsEcho = () => false) {
    this.remote = new RemoteCheck(sendCheck, (state) => this.showCheck(state));
    this.messageRow = row("message", "Message", this.message);
    const toolbar = h("div", { class: "inb-toolbar" }, this.examples, this.lockNote);
    this.schemaRow = row("schema", "Result schema", this.editor, [this.status], toolbar);
    this.el = h("div", { class: "inb-panel" }, this.messageRow.el, this.schemaRow.el);

    this.message.addEventListener("input", () => {
      if (this.message.hasAttribute("aria-invalid")) this.messageRow.problem(checkMessage(this.message.value));
    });
    this.editor.addEventListener("input", () => this.checkSchema());
    this.examples.addEventListener("change", () => this.useExample());

    this.message.value = model.get("message");
    this.editor.value = model.get("schema_text");
    this.fillExamples();
    this.lock();
    this.checkSchema();
    const offs = [
      onTraits(model, ["message"], () => {
        if (!isEcho("message", model.get("message"))) this.message.value = model.get("message");
      }),
      onTraits(model, ["schema_text"], () => {
        if (isEcho("schema_text", model.get("schema_text"))) return;
        this.editor.value = model.get("schema_text");
        this.checkSchema();
      }),
      onTraits(model, ["schema_examples"], () => this.fillExamples()),
      onTraits(model, ["schema_locked"], () => this.lock()),
    ];
    this.stop = () => offs.forEach((off) => off());
  }

  collect(): Submission | Refusal {
    const messageProblem = this.messageRow.problem(checkMessage(this.message.value));
    const schemaProblem = this.checkSchema();
    if (messageProblem !== null) this.message.focus();
    else if (schemaProblem !== null) this.editor.focus();
    const problem = messageProblem ?? schemaProblem;
    if (problem !== null) return { problem };
    return { request: { type: "submit", mode: "ask", message: this.message.value, schema_text: this.editor.value }, blobs: [] };
  }

  showProblem(field: string, message: string): string | null {
    if (field === "message") {
      this.message.focus();
      return this.messageRow.problem(message);
    }
    if (field === "schema" || field === "schema_text" || field.startsWith("schema.")) {
      this.setStatus(null, "ok");
      this.editor.focus();
      return this.schemaRow.problem(message);
    }
    return null;
  }

  /** What the form holds, for the kernel (typed.ts). */
  typed(): { message: string; schema_text: string } {
    return { message: this.message.value, schema_text: this.editor.value };
  }

  destroy(): void {
    this.stop();
    this.remote.cancel();
  }

  /** Fill the form with an earlier run's question and schema (a schema from a pydantic model stays). */
  load(message: string, schemaText: string): void {
    this.message.value = message;
    this.messageRow.problem(null);
    if (!this.editor.readOnly) this.editor.value = schemaText;
    this.checkSchema();
  }

  /**
   * Check the schema as typed: the problem shown (null when it can be sent). JSON syntax is
   * checked here at once; what the schema means only the kernel judges (Submit's own check).
   */
  private checkSchema(): string | null {
    const text = this.editor.value;
    if (text === this.checking) return null;
    const checked = checkSchemaText(text);
    const shown = this.schemaRow.problem(checked.ok ? null : checked.problem);
    if (!checked.ok || checked.value === null) {
      this.checking = null;
      this.remote.cancel();
      this.setStatus(checked.ok ? "✓ no schema: the answer comes back as the server gives it" : null, "ok");
      return shown;
    }
    this.checking = text;
    this.remote.schedule({ type: "check", what: "schema", schema_text: text });
    return null;
  }

  private showCheck(check: CheckState): void {
    if (check.state === "refused") {
      this.setStatus(null, "ok");
      this.schemaRow.problem(check.message);
    } else if (check.state === "checking") {
      this.setStatus("checking…", "checking");
    } else if (check.state === "accepted") {
      this.setStatus("✓ valid JSON Schema", "ok");
    } else {
      this.setStatus("not checked yet: the kernel has not answered (busy or stopped?)", "warn");
    }
  }

  private setStatus(text: string | null, kind: "ok" | "checking" | "warn"): void {
    this.status.hidden = text === null;
    this.status.textContent = text ?? "";
    this.status.dataset.state = kind;
  }

  private fillExamples(): void {
    const examples = this.model.get("schema_examples");
    this.examples.replaceChildren(
      h("option", { value: "" }, "Examples…"),
      ...examples.map((example, i) => h("option", { value: String(i) }, example.label)),
    );
    this.examples.hidden = examples.length === 0 || this.model.get("schema_locked");
  }

  private useExample(): void {
    const example = this.model.get("schema_examples")[Number(this.examples.value)];
    this.examples.value = "";
    if (!example || this.editor.readOnly) return;
    this.editor.value = JSON.stringify(inOrder(example).schema, null, 2);
    // As if typed: checked, and sent back to the kernel like any edit.
    this.editor.dispatchEvent(new Event("input", { bubbles: true }));
    this.editor.focus();
  }

  private lock(): void {
    const locked = this.model.get("schema_locked");
    this.editor.readOnly = locked;
    this.examples.disabled = locked;
    this.examples.hidden = locked || this.model.get("schema_examples").length === 0;
    this.lockNote.hidden = !locked;
  }
}
