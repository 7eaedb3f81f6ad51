// The Ask form: a question and the JSON Schema its answer must fit.
import { h } from "../dom";
import { onTraits, type Model } from "../messages";
import { checkMessage, checkSchemaText } from "../validate";
import { row, type Panel, type Row, type Submission } from "./panel";

export class AskPanel implements Panel {
  readonly el: HTMLElement;
  private readonly message = h("textarea", { rows: 3, placeholder: "What do you want to know?" });
  private readonly editor = h("textarea", { class: "inb-code", rows: 6, spellcheck: "false", placeholder: "{ } (empty: a free-text answer)" });
  private readonly examples = h("select", { "aria-label": "Insert an example schema" });
  private readonly status = h("div", { class: "inb-ok" });
  private readonly lockNote = h("span", { class: "inb-note" }, "from a pydantic model");
  private readonly messageRow: Row;
  private readonly schemaRow: Row;
  private readonly stop: () => void;

  constructor(private readonly model: Model) {
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
      onTraits(model, ["message"], () => (this.message.value = model.get("message"))),
      onTraits(model, ["schema_text"], () => {
        this.editor.value = model.get("schema_text");
        this.checkSchema();
      }),
      onTraits(model, ["schema_examples"], () => this.fillExamples()),
      onTraits(model, ["schema_locked"], () => this.lock()),
    ];
    this.stop = () => offs.forEach((off) => off());
  }

  collect(): Submission | null {
    const messageProblem = checkMessage(this.message.value);
    this.messageRow.problem(messageProblem);
    const schemaOk = this.checkSchema();
    if (messageProblem !== null) this.message.focus();
    else if (!schemaOk) this.editor.focus();
    if (messageProblem !== null || !schemaOk) return null;
    return { request: { type: "submit", mode: "ask", message: this.message.value, schema_text: this.editor.value }, blobs: [] };
  }

  showProblem(field: string, message: string): boolean {
    if (field === "message") {
      this.messageRow.problem(message);
      this.message.focus();
      return true;
    }
    if (field === "schema" || field === "schema_text" || field.startsWith("schema.")) {
      this.status.hidden = true;
      this.schemaRow.problem(message);
      this.editor.focus();
      return true;
    }
    return false;
  }

  destroy(): void {
    this.stop();
  }

  /** Fill the form with an earlier run's question and schema (a schema from a pydantic model stays). */
  load(message: string, schemaText: string): void {
    this.message.value = message;
    this.messageRow.problem(null);
    if (!this.editor.readOnly) this.editor.value = schemaText;
    this.checkSchema();
  }

  /** Check the schema as typed; true when it can be sent. */
  private checkSchema(): boolean {
    const checked = checkSchemaText(this.editor.value);
    this.schemaRow.problem(checked.ok ? null : checked.problem);
    this.status.hidden = !checked.ok;
    if (checked.ok) this.status.textContent = checked.value ? "✓ valid JSON Schema" : "✓ no schema: the answer comes back as text";
    return checked.ok;
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
    this.editor.value = JSON.stringify(example.schema, null, 2);
    this.checkSchema();
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
