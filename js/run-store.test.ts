import { describe, expect, it, vi } from "vitest";
import { RunStore } from "./run-store";
import type { Model } from "./messages";
import type { RunModelTraits } from "./types";
import { askRun, fakeModel, image, settle, stubBlobUrls, taskRun, traits } from "./testing";

function setup() {
  const blobs = stubBlobUrls();
  const registry = new Map<string, unknown>();
  const { images: _a, ...first } = taskRun({ id: "t1" });
  const { images: _b, ...second } = askRun({ id: "r2" });
  const t1 = fakeModel<RunModelTraits>({ view: first, images: [] });
  const r2 = fakeModel<RunModelTraits>({ view: second, images: [image("a.png"), image("b.webp", "image/webp")] });
  registry.set("m1", t1.model);
  registry.set("m2", r2.model);
  const widget = fakeModel({ ...traits(), runs: ["IPY_MODEL_m1", "IPY_MODEL_m2", "IPY_MODEL_gone"] }, registry);
  const changed = vi.fn();
  const store = new RunStore(widget.model as unknown as Model, changed);
  return { blobs, t1, r2, widget, store, changed };
}

describe("run store", () => {
  it("resolves each run's model, in the trait's order, leaving out a reference to no model", async () => {
    const { store, changed } = setup();
    store.sync();
    await settle();
    expect(store.runs.map((r) => r.id)).toEqual(["t1", "r2"]);
    expect(changed).toHaveBeenCalled();
  });

  it("makes blob: URLs of the image bytes once, not on a status change, and revokes replaced ones", async () => {
    const { store, blobs, r2 } = setup();
    store.sync();
    await settle();
    expect(blobs.made).toEqual(["blob:fake/1-image/png", "blob:fake/2-image/webp"]);
    expect(store.find("r2")!.images).toEqual([{ src: blobs.made[0], filename: "a.png" }, { src: blobs.made[1], filename: "b.webp" }]);
    const images = store.find("r2")!.images;
    r2.model.set("view", { ...r2.model.get("view"), status: "done", phase: "succeeded" });
    expect(store.find("r2")!.status).toBe("done");
    expect(store.find("r2")!.images).toBe(images);  // same list: the result area keeps its nodes
    expect(blobs.made).toHaveLength(2);
    r2.model.set("images", [image("c.png")]);
    expect(blobs.revoked).toEqual(blobs.made.slice(0, 2));
    expect(store.find("r2")!.images.map((i) => i.filename)).toEqual(["c.png"]);
  });

  it("lets go of removed runs and of everything on dispose", async () => {
    const { store, blobs, widget, r2, t1 } = setup();
    store.sync();
    await settle();
    widget.model.set("runs", ["IPY_MODEL_m1"]);
    store.sync();
    expect(store.runs.map((r) => r.id)).toEqual(["t1"]);
    expect(blobs.revoked).toHaveLength(2);
    expect(r2.listenerCount()).toBe(0);
    store.dispose();
    expect(t1.listenerCount()).toBe(0);
  });
});
