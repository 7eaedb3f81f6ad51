import { describe, expect, it } from "vitest";
import { inputSummary, matchApp, rerunRequest, SUMMARY_CHARS } from "./run-input";
import { traits } from "./testing";

describe("run inputs", () => {
  it("sums an app's input up in one line: plain words without quotes, other values as JSON", () => {
    const input = { kind: "app" as const, app: "demo/sleep@1.0.0", values: { message: "done", qty: 20, tags: ["a"], note: "" }, complete: true };
    expect(inputSummary(input, "x")).toBe('demo/sleep: message=done, qty=20, tags=["a"], note=""');
    expect(inputSummary({ ...input, values: {} }, "x")).toBe("demo/sleep");
  });

  it("leaves out nulls and the app's defaults", () => {
    const picture = traits().apps[0]!;
    const input = { kind: "app" as const, app: "demo/picture@1.0.0", values: { prompt: "a lake", width: 512, seed: null, style: "soft" }, complete: true };
    expect(inputSummary(input, "x", picture)).toBe("demo/picture: prompt=a lake, style=soft");
    expect(inputSummary(input, "x")).toBe("demo/picture: prompt=a lake, width=512, style=soft");
  });

  it("caps a long summary and falls back to the label without an input", () => {
    const long = inputSummary({ kind: "ask", message: "word ".repeat(50), schema: null, complete: true }, "x");
    expect(long.length).toBe(SUMMARY_CHARS);
    expect(long.endsWith("…")).toBe(true);
    expect(inputSummary(null, "How\nmany?")).toBe("How many?");
  });

  it("finds the run's app on this server, in another version if need be", () => {
    const apps = traits().apps;
    expect(matchApp(apps, "demo/sleep@1.0.0")?.id).toBe("demo/sleep@1.0.0");
    expect(matchApp(apps, "demo/sleep@0.9.0")?.id).toBe("demo/sleep@1.0.0");
    expect(matchApp(apps, "demo/gone@1.0.0")).toBeUndefined();
  });

  it("runs the same input again as a fresh submit", () => {
    const values = { seconds: 1 };
    const request = rerunRequest({ kind: "app", app: "demo/sleep@1.0.0", values, complete: true });
    expect(request).toEqual({ type: "submit", mode: "app", app: "demo/sleep@1.0.0", input: { seconds: 1 }, setup_text: "", session: "none" });
    expect(request.mode === "app" && request.input).not.toBe(values);
    const schema = { type: "object" };
    expect(rerunRequest({ kind: "ask", message: "Hi?", schema, complete: true })).toEqual(
      { type: "submit", mode: "ask", message: "Hi?", schema_text: JSON.stringify(schema, null, 2) });
  });
});
