import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { selectBrowserBackend } from "../src/browser-backend.js";
import { LayerConfigError } from "../src/errors.js";

// In Node there is no WebGPU and no canvas: what the browser choice does without them, with a
// stubbed adapter, and with bad options. In a browser it runs in packages/web (the page and its
// Chromium tests start their backend through it).

let initial: string | undefined;

describe("selectBrowserBackend", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  beforeAll(async () => {
    await tf.ready();
    initial = tf.getBackend();
  });
  afterAll(async () => {
    if (initial !== undefined) await tf.setBackend(initial);
  });

  it("auto: skips webgpu and webgl where there are none, and a backend package not loaded, saying why", async () => {
    const loaded = tf.findBackendFactory("wasm") !== null;
    const selection = await selectBrowserBackend();
    expect(selection.backend).toBe(loaded ? "wasm" : "cpu");
    expect(tf.getBackend()).toBe(selection.backend);
    expect(selection.skipped[0]).toEqual({ name: "webgpu", reason: expect.stringMatching(/navigator\.gpu is missing/) });
    expect(selection.skipped[1]).toEqual({ name: "webgl", reason: expect.stringMatching(/no canvas here/) });
    if (!loaded) expect(selection.skipped[2]).toEqual({ name: "wasm", reason: expect.stringMatching(/@tensorflow\/tfjs-backend-wasm is not loaded \(pass `load.wasm/) });
    expect(selection.description).toMatch(/^backend: (wasm|cpu); skipped webgpu: navigator\.gpu is missing/);
  });

  it("auto passes over a software adapter; named, it is tried, and a loader that registers nothing is reported", async () => {
    vi.stubGlobal("navigator", { gpu: { requestAdapter: async () => ({ info: { vendor: "google", architecture: "swiftshader" }, isFallbackAdapter: true }) } });
    const unloaded = await selectBrowserBackend({ prefer: ["webgpu", "cpu"] });
    expect(unloaded.backend).toBe("cpu");
    expect(unloaded.skipped).toEqual([{ name: "webgpu", reason: '@tensorflow/tfjs-backend-webgpu is not loaded (pass `load.webgpu: () => import("@tensorflow/tfjs-backend-webgpu")`)' }]);
    // A list is `prefer`, not "auto": the software device is accepted, the loader runs.
    const named = await selectBrowserBackend({ prefer: ["webgpu", "cpu"], load: { webgpu: async () => undefined } });
    expect(named.skipped).toEqual([{ name: "webgpu", reason: "the `load.webgpu` loader did not register the webgpu backend" }]);
    const viaAuto = await selectBrowserBackend({ prefer: "auto", load: { webgpu: async () => undefined } });
    expect(viaAuto.skipped[0]).toEqual({ name: "webgpu", reason: "software device google swiftshader" });
    let loads = 0;
    const failing = await selectBrowserBackend({ prefer: ["webgpu", "cpu"], load: { webgpu: async () => { loads++; throw new Error("offline"); } } });
    expect(loads).toBe(1);
    expect(failing.skipped[0]?.reason).toBe("@tensorflow/tfjs-backend-webgpu failed to load: offline");
  });

  it("throws naming `prefer` and every reason when nothing it names can run", async () => {
    const error = await selectBrowserBackend({ prefer: ["webgl", "webgpu"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LayerConfigError);
    expect((error as LayerConfigError).option).toBe("prefer");
    expect((error as Error).message).toMatch(/no backend of `prefer` \(\["webgl","webgpu"\]\) can run here: webgl: no canvas here.*; webgpu: navigator\.gpu is missing/);
  });

  it("bad options: the option, the value and what is allowed", async () => {
    await expect(selectBrowserBackend({ prefer: "tensorflow" as never })).rejects.toThrow('`prefer` must be "auto", one of "webgpu", "webgl", "wasm", "cpu", or a non-empty list of them, received "tensorflow"');
    await expect(selectBrowserBackend({ load: { webgpu: 5 as never } })).rejects.toThrow(/load\.webgpu.*a function returning a promise/);
    await expect(selectBrowserBackend({ threads: 2 } as never)).rejects.toThrow(/threads/);
  });
});
