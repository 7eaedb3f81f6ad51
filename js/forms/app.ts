// The App form: which app, its input (generated from the app's schema), setup
// parameters and the session to run in.
import type { AppInfo, FileRef, SessionChoice } from "../types";
import { h } from "../dom";
import { onTraits, type Model, type SubmitRequest } from "../messages";
import type { IsEcho } from "../typed";
import { checkSetupText } from "../validate";
import { row, type Panel, type Refusal, type Row, type Submission } from "./panel";
import { RemoteCheck, type CheckState, type SendCheck } from "./remote-check";
import { SchemaForm } from "./schema-form";
import { fieldsOf } from "./fields";

export class AppPanel implements Panel {
  readonly el: HTMLElement;
  private readonly picker = h("select", {});
  private readonly description = h("div", { class: "inb-help" });
  private readonly formBox = h("div", { class: "inb-form-box" });
  private readonly setup = h("textarea", { class: "inb-code", rows: 4, spellcheck: "false" });
  private readonly setupHint = h("div", { class: "inb-help" });
  private readonly setupBox: HTMLDetailsElement;
  private readonly session = h("select", {});
  private readonly appRow: Row;
  private readonly setupRow: Row;
  private form: SchemaForm | null = null;
  /** The app the form is built for, and its schema as JSON (to notice a changed schema). */
  private built: { id: string; schema: string } | null = null;
  /** What was typed per app, so that switching apps and back loses nothing. */
  private readonly typedPerApp = new Map<string, Record<string, unknown>>();
  /** Raw JSON input checked by the kernel against the app's schema while it is typed. */
  private readonly remote: RemoteCheck;
  private readonly stop: () => void;

  /** `isEcho`: whether a trait's new value is only the kernel handing back what this view sent (typed.ts). */
  constructor(private readonly model: Model, sendCheck: SendCheck, isEcho: IsEcho = () => false) {
    this.remote = new RemoteCheck(sendCheck, (state) => this.showCheck(state));
    this.appRow = row("app", "App", this.picker, [this.description]);
    this.setupRow = row("setup", "Setup JSON", this.setup, [this.setupHint]);
    this.setupBox = h("details", { class: "inb-setup" }, h("summary", {}, "Setup (optional)"), this.setupRow.el);
    const sessionRow = row("session", "Session", this.session);
    this.el = h("div", { class: "inb-panel" }, this.appRow.el, this.formBox, this.setupBox, sessionRow.el);

    this.picker.addEventListener("change", () => this.build());
    this.setup.addEventListener("input", () => {
      if (this.setup.hasAttribute("aria-invalid")) this.checkSetup();
    });
    this.setup.addEventListener("change", () => this.checkSetup());

    this.fillPicker(model.get("app"));
    this.build();
    this.setSetup();
    this.fillSession(model.get("session"));
    const offs = [
      onTraits(model, ["apps"], () => {
        this.fillPicker(this.picker.value || model.get("app"));
        this.build();
      }),
      onTraits(model, ["app"], () => {
        if (isEcho("app", model.get("app"))) return;
        this.fillPicker(model.get("app"));
        this.build();
      }),
      onTraits(model, ["input_values"], () => {
        if (!isEcho("input_values", model.get("input_values")) && this.picker.value === model.get("app")) this.build(true);
      }),
      onTraits(model, ["setup_text"], () => {
        if (!isEcho("setup_text", model.get("setup_text"))) this.setSetup();
      }),
      onTraits(model, ["session"], () => {
        if (!isEcho("session", model.get("session"))) this.fillSession(model.get("session"));
      }),
      onTraits(model, ["last_session_id"], () => this.fillSession(this.session.value as SessionChoice)),
    ];
    this.stop = () => offs.forEach((off) => off());
  }

  collect(): Submission | Refusal {
    const app = this.selected();
    const appProblem = this.appRow.problem(app ? null : "pick an app");
    const input = this.form?.collect() ?? null;
    const inputProblem = input && "problem" in input ? input.problem : null;
    const setupProblem = this.checkSetup();
    if (!app) this.picker.focus();
    else if (inputProblem === null && setupProblem !== null) this.setup.focus();
    const problem = appProblem ?? inputProblem ?? setupProblem;
    if (problem !== null || !app || !input || "problem" in input) return { problem: problem ?? "App: pick an app" };
    const session = this.session.value as SessionChoice;
    const request: SubmitRequest = { type: "submit", mode: "app", app: app.id, input: input.value, setup_text: this.setup.value, session };
    const blobs: Blob[] = [];
    const files: Record<string, FileRef> = {};
    for (const [path, file] of this.form?.files() ?? []) {
      files[path] = { buffer: blobs.length, filename: file.name, content_type: file.type, size: file.size };
      blobs.push(file);
    }
    if (blobs.length) request.files = files;
    return { request, blobs };
  }

  showProblem(field: string, message: string): string | null {
    if (field === "app") {
      this.picker.focus();
      return this.appRow.problem(message);
    }
    if (field === "setup" || field === "setup_text" || field.startsWith("setup.")) {
      this.setupBox.open = true;
      this.setup.focus();
      return this.setupRow.problem(message);
    }
    return this.form?.showProblem(field, message) ?? null;
  }

  /** What the form holds, for the kernel (typed.ts): the input as far as it can be read. */
  typed(): { app: string; input: Record<string, unknown>; setup_text: string; session: SessionChoice } {
    return { app: this.picker.value, input: this.form?.values() ?? {}, setup_text: this.setup.value, session: this.session.value as SessionChoice };
  }

  destroy(): void {
    this.stop();
    this.remote.cancel();
  }

  private showCheck(check: CheckState): void {
    if (check.state === "refused" && check.field?.startsWith("input")) this.form?.showProblem(check.field, check.message);
    else if (check.state === "accepted") this.form?.kernelAccepted();
  }

  /** Fill the form with an earlier run's input: pick `app` and rebuild its form from `values`. */
  load(app: AppInfo, values: Record<string, unknown>): void {
    if (this.form && this.built) this.typedPerApp.set(this.built.id, this.form.values());
    this.picker.value = app.id;
    this.typedPerApp.set(app.id, structuredClone(values));
    this.built = null; // built again from what was just put in `typed`
    this.build();
  }

  private selected(): AppInfo | undefined {
    return this.model.get("apps").find((a) => a.id === this.picker.value);
  }

  private fillPicker(wanted: string): void {
    const apps = this.model.get("apps");
    this.picker.replaceChildren(...apps.map((a) => h("option", { value: a.id }, a.id)));
    if (!apps.length) this.picker.append(h("option", { value: "" }, "(no apps on this server)"));
    this.picker.value = apps.some((a) => a.id === wanted) ? wanted : apps[0]?.id ?? "";
  }

  /** (Re)build the input form for the selected app, unless it is already built for that schema. */
  private build(force = false): void {
    const app = this.selected();
    this.description.textContent = app?.description ?? "";
    this.description.hidden = !app?.description;
    const schema = JSON.stringify(app?.input_schema ?? null);
    if (!force && this.built && app && this.built.id === app.id && this.built.schema === schema) return;
    if (this.form && this.built) this.typedPerApp.set(this.built.id, this.form.values());
    this.appRow.problem(null);
    if (!app) {
      this.form = null;
      this.built = null;
      this.formBox.replaceChildren();
      this.setupHint.textContent = "";
      return;
    }
    const initial = force || !this.typedPerApp.has(app.id)
      ? app.id === this.model.get("app") ? this.model.get("input_values") : {}
      : this.typedPerApp.get(app.id)!;
    this.remote.cancel();
    this.form = new SchemaForm(app.input_schema, initial, (input) =>
      this.remote.schedule({ type: "check", what: "input", app: app.id, input, files: [] }));
    this.built = { id: app.id, schema };
    this.formBox.replaceChildren(this.form.el);
    this.describeSetup(app);
  }

  private describeSetup(app: AppInfo): void {
    const fields = app.setup_schema ? fieldsOf(app.setup_schema) : [];
    const example = Object.fromEntries(fields.filter((f) => f.hasDefault).map((f) => [f.name, f.default]));
    this.setup.placeholder = fields.length ? JSON.stringify(example) : "{}";
    this.setupHint.textContent = fields.length
      ? `A JSON object; this app's setup takes ${fields.map((f) => f.name).join(", ")}.`
      : "A JSON object; this app declares no setup parameters.";
  }

  private setSetup(): void {
    this.setup.value = this.model.get("setup_text");
    // Collapsed unless there is something in it: what is sent should be visible.
    this.setupBox.open = this.setup.value.trim() !== "";
    this.setupRow.problem(null);
  }

  /** The setup problem shown, or null. */
  private checkSetup(): string | null {
    const checked = checkSetupText(this.setup.value);
    if (!checked.ok) this.setupBox.open = true;
    return this.setupRow.problem(checked.ok ? null : checked.problem);
  }

  private fillSession(choice: SessionChoice): void {
    const last = this.model.get("last_session_id");
    this.session.replaceChildren(
      h("option", { value: "none" }, "none (a fresh run)"),
      h("option", { value: "new" }, "new session"),
      h("option", { value: "last", disabled: last === null }, last === null ? "continue last (none yet)" : `continue last (${last})`),
    );
    this.session.value = choice === "last" && last === null ? "none" : choice;
  }
}
