// The runs of a widget, read from their child models (docs/ARCHITECTURE.md, "The widget"):
// the `runs` trait lists model references; each run model syncs its own view and images,
// so a status change arrives as one small message. Images become blob: URLs, made once
// per set of images and revoked when replaced or when the store goes.
import type { AnyModel } from "@anywidget/types";
import type { ImageView, RunModelTraits, RunView } from "./types";
import type { Model } from "./messages";
import { inOrder } from "./key-order";

type RunModel = AnyModel<RunModelTraits>;

interface Entry {
  model: RunModel;
  images: ImageView[];
  urls: string[];
  view: RunView;
  stop: () => void;
}

const REF_PREFIX = "IPY_MODEL_";

export class RunStore {
  private refs: string[] = [];
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Set<string>();
  private disposed = false;

  constructor(
    private readonly model: Model,
    private readonly onChange: () => void,
  ) {}

  /** Every run resolved so far, oldest first. */
  get runs(): RunView[] {
    return this.refs.flatMap((ref) => {
      const entry = this.entries.get(ref);
      return entry ? [entry.view] : [];
    });
  }

  find(id: string | null): RunView | null {
    return this.runs.find((r) => r.id === id) ?? null;
  }

  /** Follow the `runs` trait: resolve new references, let go of removed ones. */
  sync(): void {
    this.refs = [...this.model.get("runs")];
    for (const ref of this.entries.keys()) if (!this.refs.includes(ref)) this.drop(ref);
    for (const ref of this.refs) if (!this.entries.has(ref) && !this.pending.has(ref)) this.resolve(ref);
    this.onChange();
  }

  dispose(): void {
    this.disposed = true;
    for (const ref of [...this.entries.keys()]) this.drop(ref);
  }

  private resolve(ref: string): void {
    this.pending.add(ref);
    const id = ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : ref;
    this.model.widget_manager.get_model<RunModelTraits>(id).then(
      (model) => {
        this.pending.delete(ref);
        if (this.disposed || !this.refs.includes(ref)) return;
        this.entries.set(ref, this.follow(model));
        this.onChange();
      },
      () => this.pending.delete(ref),  // a reference to no model (a state saved half-way): the run is left out
    );
  }

  private follow(model: RunModel): Entry {
    const entry: Entry = { model, images: [], urls: [], view: viewOf(model, []), stop: () => {} };
    const loadImages = () => {
      this.revoke(entry);
      const payloads = model.get("images") ?? [];
      entry.urls = payloads.map((p) => URL.createObjectURL(new Blob([p.data], { type: p.type })));
      entry.images = payloads.map((p, i) => ({ src: entry.urls[i]!, filename: p.filename }));
    };
    const onView = () => {
      entry.view = viewOf(model, entry.images);
      this.onChange();
    };
    const onImages = () => {
      loadImages();
      onView();
    };
    model.on("change:view", onView);
    model.on("change:images", onImages);
    entry.stop = () => {
      model.off("change:view", onView);
      model.off("change:images", onImages);
    };
    loadImages();
    entry.view = viewOf(model, entry.images);
    return entry;
  }

  private drop(ref: string): void {
    const entry = this.entries.get(ref);
    if (!entry) return;
    entry.stop();
    this.revoke(entry);
    this.entries.delete(ref);
  }

  private revoke(entry: Entry): void {
    entry.urls.forEach((url) => URL.revokeObjectURL(url));
    entry.urls = [];
  }
}

/** A run model's view with its images, and its input in the order it was given (key-order.ts). */
function viewOf(model: RunModel, images: ImageView[]): RunView {
  const view = model.get("view");
  return { ...view, input: view.input ? inOrder(view.input) : null, images };
}
