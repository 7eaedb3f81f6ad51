// The widget's `_esm`: a few hundred bytes that every widget's saved state holds.
// The front end itself (widget.js + widget.css) and other large values travel
// once per kernel in shared models that each widget names in its `_shared`
// trait; this loader imports the bundle once per page and hands the real
// module a model on which shared values read like the widget's own traits
// (docs/ARCHITECTURE.md, "Packaging: one bundle per page").
import type { AnyModel, AnyWidget, Initialize, Render } from "@anywidget/types";
import { inOrder } from "./key-order";

/** A shared model's synced state (inference_nb/frontend.py, `Shared`). */
export interface SharedState {
  value: unknown;
  digest: string;
}

/** The "bundle" shared value. */
export interface Bundle {
  esm: string;
  css: string;
}

type Module = { initialize?: Initialize; render?: Render };
type Model = AnyModel<{ _shared: Record<string, string> }>;

/** ipywidgets' prefix of a model reference (widget_serialization). */
const REF = "IPY_MODEL_";
/** Imported bundles by digest, kept on globalThis so that a page imports each one once, whatever loads this loader. */
const modules: Map<string, Promise<Module>> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for("inference_nb.bundles")
] ??= new Map()) as Map<string, Promise<Module>>;

async function importText(esm: string): Promise<Module> {
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  try {
    const imported = (await import(/* webpackIgnore: true */ /* @vite-ignore */ url)) as { default: AnyWidget };
    return typeof imported.default === "function" ? await imported.default() : imported.default;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** One stylesheet per page, replaced only when another bundle brings other styles. */
function applyCss(css: string, digest: string) {
  let style = document.head.querySelector<HTMLStyleElement>("style[data-inference-nb]");
  if (style?.dataset.inferenceNb === digest) return;
  if (!style) {
    style = document.createElement("style");
    document.head.append(style);
  }
  style.dataset.inferenceNb = digest;
  style.textContent = css;
}

export function loadBundle(shared: SharedState): Promise<Module> {
  let loading = modules.get(shared.digest);
  if (!loading) {
    const bundle = shared.value as Bundle;
    loading = importText(bundle.esm);
    modules.set(shared.digest, loading);
    loading.catch(() => modules.delete(shared.digest));
  }
  applyCss((shared.value as Bundle).css, shared.digest);
  return loading;
}

/** The bundle's module, and the model it sees: the widget's own, with each shared value read as a trait. */
export async function resolve(model: Model): Promise<{ module: Module; model: AnyModel }> {
  const refs = model.get("_shared") ?? {};
  const values = new Map<string, unknown>();
  let module: Promise<Module> | undefined;
  await Promise.all(
    Object.entries(refs).map(async ([name, ref]) => {
      const shared = await model.widget_manager.get_model<SharedState>(ref.slice(REF.length));
      const state = { value: shared.get("value"), digest: shared.get("digest") };
      if (name === "bundle") module = loadBundle(state);
      // A list of objects (the apps) is read in the key order it was made in: a saved state sorts keys.
      else values.set(name, Array.isArray(state.value) ? state.value.map(inOrder) : state.value);
    }),
  );
  if (!module) throw new Error("inference_nb: this widget names no front-end bundle; re-run its cell.");
  const get = (name: string) => (values.has(name) ? values.get(name) : model.get(name as "_shared"));
  return { module: await module, model: { ...model, get } as AnyModel };
}

/** What a module's initialize / render hands back: a cleanup function, or nothing to clean up. */
type Cleanup = unknown;

async function callCleanup(cleanup: Cleanup) {
  if (typeof cleanup === "function") await cleanup();
}

/**
 * Runs `start` with the module the widget names now, and again whenever its bundle changes (with
 * INFERENCE_NB_HMR set, the kernel hands widgets a rebuilt bundle: inference_nb/widget/bundle.py).
 * Each run's cleanup is called before the next one starts; the returned cleanup ends it all.
 */
async function following(
  props: { model: unknown },
  start: (module: Module, model: AnyModel) => Cleanup | Promise<Cleanup>,
): Promise<() => Promise<void>> {
  const widget = props.model as Model;
  let cleanup: Cleanup;
  let shown: string | null = null; // the bundle reference shown (null: none yet)
  let latest = 0;
  const mount = async () => {
    const bundleRef = widget.get("_shared")?.bundle ?? "";
    if (bundleRef === shown) return;
    const run = ++latest;
    const { module, model } = await resolve(widget);
    if (run !== latest) return; // a newer bundle arrived meanwhile
    await callCleanup(cleanup);
    shown = bundleRef;
    cleanup = await start(module, model);
  };
  await mount();
  const changed = () => void mount().catch((error) => console.error("inference_nb: reloading the front end failed", error));
  widget.on("change:_shared", changed);
  return async () => {
    widget.off("change:_shared", changed);
    latest++;
    await callCleanup(cleanup);
  };
}

const loader: { initialize: Initialize; render: Render } = {
  initialize(props) {
    return following(props, (module, model) => module.initialize?.({ ...props, model }));
  },
  render(props) {
    return following(props, (module, model) => {
      props.el.replaceChildren();
      return module.render?.({ ...props, model });
    });
  },
};

export default loader;
