import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { BACKEND_NAMES, selectBackend } from "../src/backend.js";
import { LayerConfigError } from "../src/errors.js";

/** Why `pkg` cannot be imported here, or `undefined` when it can. */
async function missing(pkg: string): Promise<string | undefined> {
  try {
    await import(pkg);
    return undefined;
  } catch (error) {
    return `${pkg} cannot be loaded (${(error as Error).message.split("\n")[0]})`;
  }
}

// The TensorFlow packages download libtensorflow when they install, so CI never has them.
const noTfjsNode = await missing("@tensorflow/tfjs-node");
const noCuda = await missing("@tensorflow/tfjs-node-gpu");
if (noCuda !== undefined) console.info(`CUDA tests skipped: ${noCuda}`);

describe("selectBackend options", () => {
  it.each([
    [{ prefer: "gpu" }, /`prefer` must be "auto", one of "tensorflow-gpu", "tensorflow", "wasm", "cpu", or a non-empty list of them, received "gpu"/],
    [{ prefer: [] }, /`prefer` must be .*received \[\]/],
    [{ prefer: ["wasm", "tpu"] }, /`prefer` must be .*received \["wasm","tpu"\]/],
    [{ threads: 0 }, /`threads` must be a positive integer, received 0/],
    [{ threads: 1.5 }, /`threads` must be a positive integer, received 1.5/],
    [{ verbose: "yes" }, /`verbose` must be a boolean, received "yes"/],
    [{ thread: 2 }, /thread/],
  ])("rejects %j", async (options, message) => {
    const attempt = selectBackend(options as never);
    await expect(attempt).rejects.toThrow(LayerConfigError);
    await expect(selectBackend(options as never)).rejects.toThrow(message);
  });
});

describe("selectBackend", () => {
  it("names the backends best first", () => {
    expect(BACKEND_NAMES).toEqual(["tensorflow-gpu", "tensorflow", "wasm", "cpu"]);
  });

  it("uses cpu when asked for it", async () => {
    const selection = await selectBackend({ prefer: "cpu", threads: 2 });
    expect(selection).toMatchObject({ backend: "cpu", tfBackend: "cpu", threads: 1, headKernelThreads: 2, skipped: [], notes: [] });
    expect(selection.description).toBe("backend: cpu (1 thread, head kernel 2 threads)");
    expect(tf.getBackend()).toBe("cpu");
    expect(Array.from(tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1)).dataSync())).toEqual([2, 3]);
  });

  it("uses wasm with the threads asked for", async () => {
    const selection = await selectBackend({ prefer: "wasm", threads: 2 });
    expect(selection).toMatchObject({ backend: "wasm", tfBackend: "wasm", threads: 2, headKernelThreads: 2, skipped: [] });
    expect(selection.description).toMatch(/^backend: wasm \(2 threads, head kernel 2 threads\)/);
    expect(tf.getBackend()).toBe("wasm");
    const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync());
    expect(Array.from(product)).toEqual([11]);
  });

  it.skipIf(noTfjsNode === undefined || noCuda === undefined)(
    "auto: skips the missing TensorFlow packages, says why, and lands on wasm",
    async () => {
      const selection = await selectBackend({ threads: 2 });
      expect(selection.backend).toBe("wasm");
      expect(selection.skipped).toEqual([
        { name: "tensorflow-gpu", reason: "package @tensorflow/tfjs-node-gpu not installed" },
        { name: "tensorflow", reason: "package @tensorflow/tfjs-node not installed" },
      ]);
      expect(selection.description).toBe(
        "backend: wasm (2 threads, head kernel 2 threads); skipped tensorflow-gpu: package @tensorflow/tfjs-node-gpu not installed, " +
          "tensorflow: package @tensorflow/tfjs-node not installed",
      );
    },
  );

  it.skipIf(noTfjsNode === undefined || noCuda === undefined)(
    "an ordered list falls through to the first backend that works",
    async () => {
      const selection = await selectBackend({ prefer: ["tensorflow", "cpu", "wasm"] });
      expect(selection.backend).toBe("cpu");
      expect(selection.skipped.map((s) => s.name)).toEqual(["tensorflow"]);
      expect(selection.skipped[0]?.reason).toMatch(/@tensorflow\/tfjs-node not installed/);
    },
  );

  it.skipIf(noTfjsNode === undefined || noCuda === undefined)(
    "asking only for an unavailable backend is an error that says why",
    async () => {
      const attempt = selectBackend({ prefer: "tensorflow" });
      await expect(attempt).rejects.toThrow(LayerConfigError);
      await expect(selectBackend({ prefer: "tensorflow" })).rejects.toThrow(
        /no backend of `prefer` \("tensorflow"\) is available: tensorflow: package @tensorflow\/tfjs-node not installed; install it with `npm install @tensorflow\/tfjs-node` \(offline, from a tfgpt checkout: `npm run setup:tensorflow`\)$/,
      );
      await expect(selectBackend({ prefer: ["tensorflow-gpu"] })).rejects.toThrow(
        /tensorflow-gpu: package @tensorflow\/tfjs-node-gpu not installed/,
      );
    },
  );

  it.skipIf(noTfjsNode !== undefined)(
    `uses TensorFlow on the CPU from @tensorflow/tfjs-node and says which${noTfjsNode ? ` (skipped: ${noTfjsNode})` : ""}`,
    async () => {
      const selection = await selectBackend({ prefer: ["tensorflow-gpu", "tensorflow"] });
      expect(selection.backend).toBe("tensorflow");
      expect(selection.tfBackend).toBe("tensorflow");
      expect(selection.tensorflow).toMatchObject({ package: "@tensorflow/tfjs-node", packageVersion: tf.version_core, gpu: false });
      expect(selection.tensorflow?.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(selection.description).toMatch(
        /^backend: tensorflow \(TensorFlow \d+\.\d+\.\d+\S* on the CPU, @tensorflow\/tfjs-node \d+\.\d+\.\d+\); skipped tensorflow-gpu: package @tensorflow\/tfjs-node-gpu not installed$/,
      );
      const product = tf.tidy(() => tf.matMul(tf.ones([4, 8]), tf.ones([8, 2])).dataSync());
      expect(Array.from(product)).toEqual(new Array(8).fill(8));
    },
  );

  it("verbose logs the description", async () => {
    const lines: unknown[] = [];
    const info = console.info;
    console.info = (...args: unknown[]) => lines.push(...args);
    try {
      await selectBackend({ prefer: "cpu", threads: 1, verbose: true });
    } finally {
      console.info = info;
    }
    expect(lines).toEqual(["backend: cpu (1 thread, head kernel 1 thread)"]);
  });

  it.skipIf(noCuda !== undefined)(`uses TensorFlow with CUDA when there is a GPU${noCuda ? ` (skipped: ${noCuda})` : ""}`, async () => {
    const selection = await selectBackend({ prefer: "tensorflow-gpu" });
    expect(selection.backend).toBe("tensorflow-gpu");
    expect(selection.tfBackend).toBe("tensorflow");
    const product = tf.tidy(() => tf.matMul(tf.ones([4, 8]), tf.ones([8, 2])).dataSync());
    expect(Array.from(product)).toEqual(new Array(8).fill(8));
  });
});
