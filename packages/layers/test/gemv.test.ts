import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GemvKernel } from "../src/gemv.js";
import { createGPT } from "../src/gpt.js";
import type { GPTModel } from "../src/gpt-model.js";
import { KVCacheDecoder } from "../src/kv-cache.js";
import "../src/register.js";
import { BACKENDS, maxAbsDiff, ON_TENSORFLOW, offTensorflow, useBackend } from "./backends.js";

/** Deterministic values in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** x @ W + b in float64. */
function reference(x: Float32Array, w: Float32Array, bias: Float32Array | null, k: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = bias === null ? 0 : (bias[j] as number);
    for (let i = 0; i < k; i++) s += (x[i] as number) * (w[i * n + j] as number);
    out[j] = s;
  }
  return out;
}

describe("GemvKernel (batch-1 dense layer, WebAssembly SIMD)", () => {
  it("equals x @ W + b in float64 for shapes with and without padding, with and without a bias", () => {
    const kernel = new GemvKernel();
    const shapes: [number, number, boolean][] = [
      [16, 16, true],
      [7, 5, true], // rows padded to 16
      [32, 96, false],
      [128, 33, true],
      [768, 48, true],
    ];
    const slots = shapes.map(([k, n, withBias], i) => ({ k, n, w: values(k * n, 10 + i), bias: withBias ? values(n, 20 + i) : null }));
    const ids = slots.map((s) => kernel.add(s.w, s.k, s.n, s.bias));
    // Twice, in another order: each run is independent of the ones before.
    for (const order of [ids, [...ids].reverse()]) {
      for (const id of order) {
        const s = slots[id]!;
        const x = values(s.k, 30 + id);
        const y = kernel.run(id, x);
        expect(y.length).toBe(s.n);
        const want = reference(x, s.w, s.bias, s.k, s.n);
        let err = 0;
        for (let j = 0; j < s.n; j++) err = Math.max(err, Math.abs((y[j] as number) - (want[j] as number)));
        expect(err).toBeLessThan(1e-5 * Math.sqrt(s.k));
      }
    }
    expect(kernel.byteLength).toBeGreaterThan(4 * (768 * 48));
  });

  it("addTransposed: x @ tableᵀ for a [n, k] table (the tied head), padded or not", () => {
    const kernel = new GemvKernel();
    for (const [n, k] of [
      [61, 24],
      [16, 7],
      [50, 33],
    ] as [number, number][]) {
      const table = values(n * k, n + k);
      const slot = kernel.addTransposed(table, n, k);
      const w = new Float32Array(k * n);
      for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) w[c * n + r] = table[r * k + c] as number;
      const x = values(k, 7);
      const y = kernel.run(slot, x);
      const want = reference(x, w, null, k, n);
      expect(y.length).toBe(n);
      for (let j = 0; j < n; j++) expect(Math.abs((y[j] as number) - (want[j] as number))).toBeLessThan(1e-5 * Math.sqrt(k));
    }
    expect(() => kernel.addTransposed(new Float32Array(10), 3, 4)).toThrow(/table has 10 values, not 3 x 4/);
    // column(slot, r) of a transposed table is the table's row r, bit for bit (the host step's token lookup).
    const table = values(50 * 33, 83);
    const slot = kernel.addTransposed(table, 50, 33);
    for (const r of [0, 17, 49]) expect(Array.from(kernel.column(slot, r))).toEqual(Array.from(table.subarray(r * 33, (r + 1) * 33)));
    expect(() => kernel.column(slot, 50)).toThrow(/column 50 is not in \[0, 50\)/);
  });

  it("names the sizes that do not match", () => {
    const kernel = new GemvKernel();
    expect(() => kernel.add(new Float32Array(10), 3, 4, null)).toThrow(/weight has 10 values, not 3 x 4/);
    expect(() => kernel.add(new Float32Array(12), 3, 4, new Float32Array(3))).toThrow(/bias has 3 values, not 4/);
    const slot = kernel.add(new Float32Array(12), 3, 4, null);
    expect(() => kernel.run(slot, new Float32Array(4))).toThrow(/x has 4 values, not 3/);
    expect(() => kernel.run(slot + 1, new Float32Array(3))).toThrow(/no slot 1/);
  });
});

describe("the KV cache's trunk on the kernel", () => {
  for (const backend of BACKENDS) {
    it(`${backend}: one-position steps equal a full forward pass, also after the weights change (the kernel's copy is refreshed)`, async () => {
      await useBackend(backend);
      const model: GPTModel = createGPT({ vocabSize: 61, contextLength: 12, embeddingDim: 24, numHeads: 2, numLayers: 2, qkvBias: true });
      const ids = [3, 14, 15, 9, 26, 5, 35, 8, 40, 2, 17];
      // Prefill, host steps, a multi-id step after host steps (the tensor cache rebuilt from the
      // host one), host steps again (the host cache refilled from the tensors).
      const schedule = [3, 1, 1, 2, 1, 1, 1, 1];
      const check = () => {
        const before = tf.memory().numTensors;
        const full = tf.tidy(() => (model.predict(tf.tensor2d(ids, [1, ids.length], "int32")) as tf.Tensor).reshape([ids.length, -1]));
        const decoder = new KVCacheDecoder(model);
        let t = 0;
        for (const n of schedule) {
          const logits = decoder.step(ids.slice(t, t + n));
          t += n;
          expect(decoder.length).toBe(t);
          const row = tf.tidy(() => full.slice([t - 1, 0], [1, -1]).reshape([-1]));
          expect(maxAbsDiff(logits, row)).toBeLessThan(1e-4);
          tf.dispose([logits, row]);
        }
        decoder.dispose();
        full.dispose();
        expect(tf.memory().numTensors).toBe(before);
      };
      check();
      check(); // a second session (the kernel's copy reused)
      for (const name of ["h1/mlp/c_fc/kernel", "h0/ln_2/gamma", "ln_f/beta", "wte/embeddings", "wpe/embeddings"]) {
        const w = model.weights.find((v) => v.originalName.endsWith(name));
        expect(w).toBeDefined();
        w!.write(tf.mul(w!.read(), -3));
        check(); // the copy must follow the new weights (trunk, LayerNorm, head and token lookup, positions)
      }
      model.dispose();
    });

    it(`${backend}: an untied head (lm_head) on the kernel equals a full forward pass`, async () => {
      await useBackend(backend);
      const model: GPTModel = createGPT({ vocabSize: 37, contextLength: 8, embeddingDim: 16, numHeads: 2, numLayers: 1, qkvBias: false, tieWeights: false });
      const ids = [1, 30, 7, 22, 5];
      const full = tf.tidy(() => (model.predict(tf.tensor2d(ids, [1, ids.length], "int32")) as tf.Tensor).reshape([ids.length, -1]));
      const decoder = new KVCacheDecoder(model);
      decoder.step(ids.slice(0, 2)).dispose();
      for (let t = 2; t < ids.length; t++) {
        const logits = decoder.step([ids[t] as number]);
        const row = tf.tidy(() => full.slice([t, 0], [1, -1]).reshape([-1]));
        expect(maxAbsDiff(logits, row)).toBeLessThan(1e-4);
        tf.dispose([logits, row]);
      }
      decoder.dispose();
      full.dispose();
      model.dispose();
    });
  }
});

describe.skipIf(ON_TENSORFLOW)(offTensorflow("the gemv kernel's wasm", "a kernel of the CPU backends"), () => {
  it("is built from the current assembly sources (node scripts/build-wasm.mjs)", async () => {
    const { generateGemv } = await import("../scripts/build-wasm.mjs");
    const committed = readFileSync(new URL("../src/gemv-wasm.ts", import.meta.url), "utf8");
    expect(committed === (await generateGemv())).toBe(true);
  });
});
