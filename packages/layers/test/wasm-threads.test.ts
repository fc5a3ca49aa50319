import * as tf from "@tensorflow/tfjs";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LayerConfigError } from "../src/errors.js";
import { offTensorflow, ON_TENSORFLOW } from "./backends.js";
import { bundleProblem, getThreadsCount, MAX_WASM_THREADS, setWasmBackend } from "../src/wasm-threads.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.resolve(here, "..");
const script = path.join(here, "fixtures", "threaded-wasm-script.mjs");
const bundleSource = fs.readFileSync(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm"), "utf8");

/** A deterministic input of `shape` with values in [-1, 1] (cheaper than tfjs's seeded random ops). */
function input(shape: number[], seed: number): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = Math.sin(i * 0.7 + seed * 1.3);
  return tf.tensor(values, shape);
}

/** Matmuls, a convolution and elementwise kernels big enough for XNNPACK to split over threads. */
function workload(): Float32Array[] {
  const results: Float32Array[] = [];
  // Returns nothing from tidy: tfjs would walk every element of returned typed arrays looking for tensors.
  tf.tidy(() => {
    const a = input([256, 320], 1);
    const b = input([320, 192], 2);
    const head = input([64, 2000], 3);
    const x = input([2, 24, 24, 8], 4) as tf.Tensor4D;
    const filter = input([3, 3, 8, 16], 5) as tf.Tensor4D;
    const outputs = [
      tf.matMul(a, b),
      tf.matMul(input([512, 64], 6), head),
      tf.conv2d(x, filter, 1, "same"),
      tf.softmax(tf.matMul(a, b)),
      tf.add(tf.mul(tf.exp(a), 0.5), tf.tanh(a)),
    ];
    for (const t of outputs) results.push(t.dataSync() as Float32Array);
  });
  return results;
}

/** How many elements of `a` and `b` differ in their bits (vitest's deep equality is slow on long arrays). */
function bitwiseDifferences(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let count = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) count++;
  return count;
}

/** Runs the fixture script in a fresh Node process, which must exit by itself. */
function runScript(...args: string[]) {
  const result = spawnSync(process.execPath, [script, ...args], { cwd: packageDir, encoding: "utf8", timeout: 60_000 });
  return { ...result, json: result.status === 0 ? JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null") : null };
}

describe.skipIf(ON_TENSORFLOW)(offTensorflow("setWasmBackend options", "tests the wasm backend itself"), () => {
  it.each([
    [{ threads: 0 }, /`threads` must be a positive integer \(at most 8 are used\), received 0/],
    [{ threads: 2.5 }, /`threads` must be a positive integer \(at most 8 are used\), received 2.5/],
    [{ threads: "2" }, /`threads` must be a positive integer \(at most 8 are used\), received "2"/],
  ])("rejects %j", async (options, message) => {
    await expect(setWasmBackend(options as never)).rejects.toThrow(LayerConfigError);
    await expect(setWasmBackend(options as never)).rejects.toThrow(message);
  });
});

describe.skipIf(ON_TENSORFLOW)(offTensorflow("bundleProblem", "tests the wasm backend itself"), () => {
  it("accepts the installed tfjs-backend-wasm", () => {
    expect(bundleProblem(bundleSource)).toBeUndefined();
  });

  it("names what is missing from another build", () => {
    expect(bundleProblem(bundleSource.replaceAll("mainScriptUrlOrBlob", "mainScript"))).toMatch(
      /unrecognized @tensorflow\/tfjs-backend-wasm bundle: the main script is not passed as a Blob/,
    );
    expect(bundleProblem(bundleSource.replace("= require$$0;", () => "= require$$9;"))).toMatch(
      /require\$\$9 is not a top-level require/,
    );
    expect(bundleProblem("module.exports = {}")).toMatch(/no WASM_HAS_MULTITHREAD_SUPPORT flag/);
  });
});

describe.skipIf(ON_TENSORFLOW)(offTensorflow("multi-threaded wasm", "tests the wasm backend itself"), () => {
  it("computes exactly what one thread computes", async () => {
    const single = await setWasmBackend({ threads: 1 });
    expect(single).toEqual({ threads: 1, requested: 1, notes: [] });
    expect(getThreadsCount()).toBe(1);
    const expected = workload();

    const multi = await setWasmBackend({ threads: 2 });
    expect(multi).toEqual({ threads: 2, requested: 2, notes: [] });
    expect(tf.getBackend()).toBe("wasm");
    expect(getThreadsCount()).toBe(2);
    const actual = workload();

    expect(actual.map((v) => v.length)).toEqual(expected.map((v) => v.length));
    // Each output element is computed by one thread in the same order: bitwise equal.
    expect(actual.map((values, i) => bitwiseDifferences(values, expected[i] ?? new Float32Array()))).toEqual(
      actual.map(() => 0),
    );
    expect(tf.memory().numTensors).toBe(0);
  });

  it(`uses at most ${MAX_WASM_THREADS} threads and says so`, async () => {
    const result = await setWasmBackend({ threads: MAX_WASM_THREADS + 4 });
    expect(result.threads).toBe(MAX_WASM_THREADS);
    expect(result.requested).toBe(MAX_WASM_THREADS + 4);
    expect(result.notes).toEqual([`${MAX_WASM_THREADS + 4} threads asked for, the wasm backend uses at most ${MAX_WASM_THREADS}`]);
    expect(tf.tidy(() => tf.sum(tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]))).dataSync()[0])).toBe(64 ** 3);
  });

  it("keeps a backend that holds tensors, with a note", async () => {
    await setWasmBackend({ threads: 2 });
    const kept = tf.ones([2]);
    try {
      const result = await setWasmBackend({ threads: 1 });
      expect(result.threads).toBe(2);
      expect(result.notes[0]).toMatch(/already initialized with 2 thread\(s\) and holds tensors; it is kept/);
      expect(Array.from(kept.dataSync())).toEqual([1, 1]);
    } finally {
      kept.dispose();
    }
  });
});

describe.skipIf(ON_TENSORFLOW)(offTensorflow("a script using the built package", "tests the wasm backend itself"), () => {
  const built = fs.existsSync(path.join(packageDir, "dist", "node.js"));

  // Sum of the fixture's matmul, computed here in plain JavaScript.
  let expectedSum = 0;
  for (let i = 0; i < 128; i++) {
    for (let j = 0; j < 64; j++) {
      for (let k = 0; k < 96; k++) expectedSum += (((i * 96 + k) % 7) - 3) * (((k * 64 + j) % 5) - 2);
    }
  }

  it("exits by itself with threaded wasm", () => {
    expect(built, "build the package first (npx tsc -b)").toBe(true);
    const run = runScript("2");
    expect(run.signal, `timed out; stderr: ${run.stderr}`).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(run.json).toEqual({ backend: "wasm", threads: 2, notes: [], sum: expectedSum });
  });

  it("falls back to one thread with a message when the shim cannot apply", () => {
    expect(built, "build the package first (npx tsc -b)").toBe(true);
    const run = runScript("2", "--no-shared-array-buffer");
    expect(run.signal, `timed out; stderr: ${run.stderr}`).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(run.json).toEqual({
      backend: "wasm",
      threads: 1,
      notes: ["multi-threaded wasm is not available: SharedArrayBuffer is not defined; running on 1 thread"],
      sum: expectedSum,
    });
  });
});
