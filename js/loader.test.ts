import { afterEach, describe, expect, it, vi } from "vitest";
import loader, { type SharedState } from "./loader";

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  delete (globalThis as { imports?: number }).imports;
  document.head.replaceChildren();
  document.body.replaceChildren();
});

// jsdom has no Blob URLs that import() can read: the test serves the bundle's text as a data: URL.
function importableBlobs() {
  vi.spyOn(URL, "createObjectURL").mockImplementation((blob) => {
    const text = (blob as unknown as { text: string }).text;
    return `data:text/javascript,${encodeURIComponent(text)}`;
  });
  vi.spyOn(URL, "revokeObjectURL").mockImplementation(() => {});
  vi.stubGlobal("Blob", class { constructor(public parts: string[]) {} get text() { return this.parts.join(""); } });
}

let counter = 0;
/** A bundle whose render writes the traits it reads into `el`, and counts its imports on globalThis. */
function bundle(css: string): SharedState {
  const digest = `d${++counter}`;
  const esm = `globalThis.imports = (globalThis.imports ?? 0) + 1;
    export default { render({ model, el }) { el.textContent = JSON.stringify([model.get("apps"), model.get("mode")]); return () => {}; } };`;
  return { value: { esm, css }, digest };
}

function pageWith(shared: Record<string, SharedState>) {
  const models = new Map(Object.entries(shared).map(([name, state], i) => [`id${i}`, { name, state }]));
  const listeners = new Map<string, Set<() => void>>();
  const get_model = vi.fn(async (id: string) => {
    const found = models.get(id);
    if (!found) throw new Error("widget model not found");
    return { get: (key: "value" | "digest") => found.state[key] };
  });
  const widget = (traits: Record<string, unknown>) => ({
    get: (key: string) =>
      key === "_shared" ? Object.fromEntries([...models].map(([id, { name }]) => [name, `IPY_MODEL_${id}`])) : traits[key],
    on: (event: string, listener: () => void) => listeners.set(event, (listeners.get(event) ?? new Set()).add(listener)),
    off: (event: string, listener: () => void) => listeners.get(event)?.delete(listener),
    widget_manager: { get_model },
  });
  /** The kernel replaces a shared value (a rebuilt bundle): a new model, and `change:_shared`. */
  const replace = (name: string, state: SharedState) => {
    for (const [id, found] of models) if (found.name === name) models.delete(id);
    models.set(`id${models.size + 100}`, { name, state });
    for (const listener of listeners.get("change:_shared") ?? []) listener();
  };
  return { widget, get_model, replace, listeners };
}

describe("the loader", () => {
  it("renders with the shared bundle, reading shared values as traits, and imports each bundle once per page", async () => {
    importableBlobs();
    const shared = { bundle: bundle(".inb-widget{color:red}"), apps: { value: [{ id: "demo/x@1" }], digest: "a" } };
    const page = pageWith(shared);
    const els = [document.createElement("div"), document.createElement("div")];
    for (const [i, el] of els.entries()) {
      const model = page.widget({ mode: i ? "app" : "ask" });
      await loader.render({ model, el } as never);
    }
    expect(els.map((el) => JSON.parse(el.textContent!))).toEqual([[[{ id: "demo/x@1" }], "ask"], [[{ id: "demo/x@1" }], "app"]]);
    expect((globalThis as { imports?: number }).imports).toBe(1);
    const styles = document.head.querySelectorAll("style");
    expect(styles.length).toBe(1);
    expect(styles[0]!.textContent).toBe(".inb-widget{color:red}");
  });

  it("replaces the page's styles when another bundle arrives", async () => {
    importableBlobs();
    for (const css of ["a{}", "b{}"]) {
      const page = pageWith({ bundle: bundle(css) });
      await loader.render({ model: page.widget({}), el: document.createElement("div") } as never);
    }
    expect([...document.head.querySelectorAll("style")].map((s) => s.textContent)).toEqual(["b{}"]);
  });

  it("says what to do when a widget names no bundle", async () => {
    const page = pageWith({ apps: { value: [], digest: "a" } });
    await expect(loader.render({ model: page.widget({}), el: document.createElement("div") } as never)).rejects.toThrow(
      /re-run its cell/,
    );
  });

  it("renders again with a rebuilt bundle when the kernel hands one over, after the old view's cleanup", async () => {
    importableBlobs();
    const cleaned: string[] = [];
    (globalThis as { cleaned?: string[] }).cleaned = cleaned;
    const version = (n: number): SharedState => ({
      value: { esm: `export default { render({ el }) { el.textContent = "v${n}"; return () => globalThis.cleaned.push("v${n}"); } };`, css: "" },
      digest: `hmr${n}-${++counter}`,
    });
    const page = pageWith({ bundle: version(1) });
    const el = document.createElement("div");
    const stop = (await loader.render({ model: page.widget({}), el } as never)) as () => Promise<void>;
    expect(el.textContent).toBe("v1");
    page.replace("bundle", version(2));
    await vi.waitFor(() => expect(el.textContent).toBe("v2"));
    expect(cleaned).toEqual(["v1"]);
    await stop();
    expect(cleaned).toEqual(["v1", "v2"]);
    expect([...page.listeners.get("change:_shared")!]).toEqual([]); // the view stopped listening
  });
});
