import { afterEach, describe, expect, it, vi } from "vitest";
import { mount, traits, type } from "../testing";
import { MAX_FILE_BYTES, sizeText } from "./file-control";

afterEach(() => document.body.replaceChildren());

// demo/sql's input schema as pydantic writes it (abridged), with the server's file mark.
const SQL_SCHEMA = {
  $defs: {
    File: {
      additionalProperties: true, format: "file", title: "File", type: "object",
      properties: { uri: { default: "", title: "Uri", type: "string" }, filename: { anyOf: [{ type: "string" }, { type: "null" }], default: null } },
    },
  },
  properties: {
    query: { minLength: 1, title: "Query", type: "string" },
    csv_file: { anyOf: [{ $ref: "#/$defs/File" }, { type: "null" }], default: null, description: "A CSV file on this server." },
  },
  required: ["query"],
  title: "Input",
  type: "object",
};
const SQL = { id: "demo/sql@1.0.0", description: "SQL.", input_schema: SQL_SCHEMA, setup_schema: null };
const CSV = "city,people\nOslo,709000\n";

async function sqlForm() {
  const widget = await mount({ mode: "app", apps: [SQL, ...traits().apps], app: SQL.id });
  const picker = widget.field("csv_file");
  const uri = widget.$<HTMLInputElement>('[data-field="csv_file"] .inb-file-uri input')!;
  const chosen = widget.$('[data-field="csv_file"] .inb-file-chosen')!;
  const error = widget.$('[data-field="csv_file"] .inb-error')!;
  const choose = (file: File) => {
    // jsdom cannot set .files the way a person does; the browser test does.
    Object.defineProperty(picker, "files", { value: [file], configurable: true });
    picker.dispatchEvent(new Event("input", { bubbles: true }));
    picker.dispatchEvent(new Event("change", { bubbles: true }));
  };
  type(widget.field<HTMLTextAreaElement>("query"), "SELECT * FROM uploaded");
  return { ...widget, picker, uri, chosen, error, choose };
}

/** The model's send calls but the form contents sent back while typing. */
const submits = (model: { send: { mock: { calls: any[][] } } }) => model.send.mock.calls.filter(([msg]) => msg.type !== "typed");  // eslint-disable-line @typescript-eslint/no-explicit-any

describe("file field", () => {
  it("is a labelled file picker with the chosen file's name and size, and a URI box", async () => {
    const { picker, uri, chosen, el, choose, $ } = await sqlForm();
    expect(picker.type).toBe("file");
    expect(el.querySelector(`label[for="${picker.id}"]`)!.textContent).toBe("CSV file");
    expect(el.querySelector(`label[for="${uri.id}"]`)!.textContent).toBe("or the URI of a file on the server");
    expect(chosen.hidden).toBe(true);
    choose(new File([CSV], "cities.csv", { type: "text/csv" }));
    expect(chosen.hidden).toBe(false);
    expect(chosen.textContent).toContain("cities.csv");
    expect(chosen.textContent).toContain(`(${CSV.length} bytes)`);
    expect(picker.getAttribute("aria-describedby")!.split(" ")).toContain(chosen.id);
    expect(uri.disabled).toBe(true);
    expect($('[data-field="csv_file"] .inb-file-remove')!.getAttribute("aria-label")).toBe("Remove cities.csv");
  });

  it("sends the chosen file's bytes as a buffer of the submit, mapped from its field", async () => {
    const { choose, button, model } = await sqlForm();
    choose(new File([CSV], "cities.csv", { type: "text/csv" }));
    button("Submit").click();
    await vi.waitFor(() => expect(submits(model)).toHaveLength(1));
    const [message, callbacks, buffers] = submits(model)[0]!;
    expect(message).toEqual({
      type: "submit", id: expect.any(String), mode: "app", app: "demo/sql@1.0.0",
      input: { query: "SELECT * FROM uploaded" }, setup_text: "", session: "none",
      files: { csv_file: { buffer: 0, filename: "cities.csv", content_type: "text/csv", size: CSV.length } },
    });
    expect(callbacks).toBeUndefined();
    expect(buffers).toHaveLength(1);
    expect(new TextDecoder().decode(buffers[0] as ArrayBuffer)).toBe(CSV);
    // Never inside the JSON: no base64, no bytes.
    expect(JSON.stringify(message)).not.toContain("Oslo");
  });

  it("Remove clears the choice and gives the keyboard back to the picker; a URI is sent as the value", async () => {
    const { choose, button, model, picker, uri, chosen, $ } = await sqlForm();
    choose(new File([CSV], "cities.csv"));
    $<HTMLButtonElement>('[data-field="csv_file"] .inb-file-remove')!.click();
    expect(chosen.hidden).toBe(true);
    expect(picker.value).toBe("");
    expect(document.activeElement).toBe(picker);
    expect(uri.disabled).toBe(false);
    type(uri, "http://127.0.0.1:1/files/f1/cities.csv");
    button("Submit").click();
    expect(submits(model)).toHaveLength(1);
    const [message, , buffers] = submits(model)[0]!;
    expect(message.input).toEqual({ query: "SELECT * FROM uploaded", csv_file: "http://127.0.0.1:1/files/f1/cities.csv" });
    expect(message.files).toBeUndefined();
    expect(buffers).toBeUndefined();
  });

  it("refuses a file over the limit next to the field, before sending anything", async () => {
    const { choose, button, model, error, picker, $ } = await sqlForm();
    const big = new File(["x"], "huge.csv");
    Object.defineProperty(big, "size", { value: MAX_FILE_BYTES + 1 });
    choose(big);
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe(
      `CSV file: huge.csv is ${sizeText(MAX_FILE_BYTES + 1)}; the widget sends files up to 8.0 MiB. ` +
        "Upload a bigger one from code (client.upload(path)) and paste the URI it returns below.",
    );
    expect(picker.getAttribute("aria-invalid")).toBe("true");
    button("Submit").click();
    await Promise.resolve();
    expect(submits(model)).toHaveLength(0);
    expect($(".inb-notice")!.textContent).toBe("Not sent: CSV file: huge.csv is 8.0 MiB; the widget sends files up to 8.0 MiB. Upload a bigger one from code (client.upload(path)) and paste the URI it returns below.");
  });

  it("shows a kernel refusal naming the field next to the picker", async () => {
    const { choose, button, model, reply, error } = await sqlForm();
    choose(new File([CSV], "cities.csv"));
    button("Submit").click();
    await vi.waitFor(() => expect(submits(model)).toHaveLength(1));
    reply({ type: "refused", message: "input.csv_file: cities.csv could not be uploaded: 507", field: "input.csv_file" });
    expect(error.textContent).toBe("CSV file: cities.csv could not be uploaded: 507");
  });

  it("is not sent from Raw JSON, and says so there", async () => {
    const { choose, button, model, el } = await sqlForm();
    choose(new File([CSV], "cities.csv"));
    const toggle = el.querySelector<HTMLInputElement>(".inb-toggle input")!;
    toggle.checked = true;
    toggle.dispatchEvent(new Event("change", { bubbles: true }));
    expect(el.querySelector(".inb-raw .inb-help")!.textContent).toContain("Not sent from Raw JSON: the chosen file cities.csv");
    button("Submit").click();
    expect(submits(model)).toHaveLength(1);
    expect(submits(model)[0]![0].files).toBeUndefined();
  });

  it("has ids unique per widget view", async () => {
    const one = await sqlForm();
    const two = await sqlForm();
    expect(one.picker.id).not.toBe(two.picker.id);
    expect(one.uri.id).not.toBe(two.uri.id);
    expect(document.querySelectorAll(`#${one.picker.id}`)).toHaveLength(1);
  });
});
