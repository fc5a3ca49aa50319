import * as tf from "@tensorflow/tfjs";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import { LayerConfigError } from "../src/errors.js";
import { headCrossEntropy, usesHeadKernel } from "../src/head-cross-entropy.js";
import { enableHeadKernelThreads } from "../src/head-kernel-node.js";
import { HeadKernel, headKernel, headKernelSupported } from "../src/head-kernel.js";
import { offTensorflow, ON_TENSORFLOW, useBackend } from "./backends.js";

const KERNEL_ONLY = "the head kernel is WebAssembly whatever the tfjs backend; tested in the default pass";

/** A seeded uniform generator in [-0.5, 0.5). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** The loss per token and both gradients of `sum_r dy[r] * loss[r]`, in float64. */
function reference(h: Float32Array, w: Float32Array, labels: Int32Array, dy: Float32Array, n: number, vocab: number, dim: number) {
  const losses = new Float64Array(n);
  const dh = new Float64Array(n * dim);
  const dw = new Float64Array(vocab * dim);
  const z = new Float64Array(vocab);
  for (let r = 0; r < n; r++) {
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += h[r * dim + c]! * w[v * dim + c]!;
      z[v] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(z[v]! - max);
    const lse = max + Math.log(sum);
    losses[r] = lse - z[labels[r]!]!;
    for (let v = 0; v < vocab; v++) {
      const g = (Math.exp(z[v]! - lse) - (v === labels[r] ? 1 : 0)) * dy[r]!;
      for (let c = 0; c < dim; c++) {
        dh[r * dim + c]! += g * w[v * dim + c]!;
        dw[v * dim + c]! += g * h[r * dim + c]!;
      }
    }
  }
  return { losses, dh, dw };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function problem(n: number, vocab: number, dim: number, seed: number) {
  const next = rng(seed);
  const h = Float32Array.from({ length: n * dim }, () => 2 * next());
  const w = Float32Array.from({ length: vocab * dim }, () => next());
  // Repeated labels, the first and the last id among them.
  const labels = Int32Array.from({ length: n }, (_, r) => (r % 5 === 0 ? 0 : r % 7 === 0 ? vocab - 1 : Math.floor((next() + 0.5) * vocab)));
  const dy = Float32Array.from({ length: n }, () => next());
  return { h, w, labels, dy };
}

describe.skipIf(ON_TENSORFLOW)(offTensorflow("HeadKernel", KERNEL_ONLY), () => {
  afterAll(() => {
    headKernel().setWorkers(0);
  });

  it("runs where WebAssembly SIMD does (Node 20)", () => {
    expect(headKernelSupported()).toBe(true);
    expect(HeadKernel.supports(64)).toBe(true);
    expect(HeadKernel.supports(12)).toBe(false);
  });

  // Token counts that are not multiples of 8 and exceed one 512-token block; vocabularies that
  // are not multiples of a tile; widths of 8, 24 and 64.
  it.each([
    [1, 5, 8],
    [13, 37, 8],
    [100, 301, 24],
    [600, 130, 16],
    [64, 1000, 64],
  ])("equals a float64 reference: %i tokens, vocab %i, width %i", (n, vocab, dim) => {
    const { h, w, labels, dy } = problem(n, vocab, dim, n + vocab + dim);
    const ref = reference(h, w, labels, dy, n, vocab, dim);
    // Plain and shared memory; logits kept from the forward pass or recomputed.
    for (const [shared, cacheLimit] of [[false, undefined], [true, undefined], [true, 0]] as const) {
      const kernel = new HeadKernel({ shared, cacheLimit });
      const { losses } = kernel.forward(h, w, labels, n, vocab, dim);
      expect(maxDiff(losses, ref.losses)).toBeLessThan(2e-5);
      const { dHidden, dTable } = kernel.backward(dy);
      expect(maxDiff(dHidden, ref.dh)).toBeLessThan(2e-6);
      expect(maxDiff(dTable, ref.dw)).toBeLessThan(2e-6);
      // A second backward pass (the cache was used up by the first) recomputes the logits.
      const again = kernel.backward(dy);
      expect(maxDiff(again.dHidden, ref.dh)).toBeLessThan(2e-6);
      expect(maxDiff(again.dTable, ref.dw)).toBeLessThan(2e-6);
    }
  });

  it("gives the same results on 2 threads as on 1, and worker threads are reused", async () => {
    const { h, w, labels, dy } = problem(300, 777, 32, 9);
    const one = new HeadKernel();
    const single = { f: one.forward(h, w, labels, 300, 777, 32).losses, b: one.backward(dy) };
    expect(enableHeadKernelThreads({ threads: 2 })).toBe(2);
    const kernel = headKernel();
    expect(kernel.threads).toBe(2);
    await vi.waitFor(() => expect(kernel.readyWorkers).toBe(1), { timeout: 10_000 });
    let first: { losses: Float32Array; dHidden: Float32Array; dTable: Float32Array } | undefined;
    for (let i = 0; i < 3; i++) {
      const losses = kernel.forward(h, w, labels, 300, 777, 32).losses;
      const { dHidden, dTable } = kernel.backward(dy);
      expect(kernel.lastThreads).toBe(2);
      // Two shares' partial sums are merged, one share has none: float rounding apart.
      expect(maxDiff(losses, single.f)).toBeLessThan(1e-5);
      expect(maxDiff(dHidden, single.b.dHidden)).toBeLessThan(1e-6);
      expect(maxDiff(dTable, single.b.dTable)).toBeLessThan(1e-6);
      // Whoever takes which share, 2 shares give the same bits every time.
      if (i === 0) first = { losses, dHidden, dTable };
      else {
        expect(maxDiff(losses, first!.losses)).toBe(0);
        expect(maxDiff(dHidden, first!.dHidden)).toBe(0);
        expect(maxDiff(dTable, first!.dTable)).toBe(0);
      }
    }
    // A kernel set for 2 threads whose worker never started: the calling thread runs both shares,
    // and the bits are those of the 2 threads that ran them together.
    const alone = new HeadKernel();
    alone.setWorkers(1, () => ({ count: 1, terminate: () => {} }));
    expect(alone.threads).toBe(2);
    const losses = alone.forward(h, w, labels, 300, 777, 32).losses;
    const { dHidden, dTable } = alone.backward(dy);
    expect(alone.lastThreads).toBe(1);
    expect(maxDiff(losses, first!.losses)).toBe(0);
    expect(maxDiff(dHidden, first!.dHidden)).toBe(0);
    expect(maxDiff(dTable, first!.dTable)).toBe(0);
    expect(enableHeadKernelThreads({ threads: 1 })).toBe(1);
  });

  it("a replaced pool's workers neither count nor join; the new pool's do", async () => {
    const { h, w, labels, dy } = problem(64, 200, 16, 12);
    const one = new HeadKernel();
    const expected = { losses: one.forward(h, w, labels, 64, 200, 16).losses, grads: one.backward(dy) };
    const kernel = headKernel();
    enableHeadKernelThreads({ threads: 2 });
    await vi.waitFor(() => expect(kernel.readyWorkers).toBe(1), { timeout: 10_000 });
    // Replace the pool and run at once: the old worker (still alive) must not take part.
    for (let i = 0; i < 3; i++) {
      enableHeadKernelThreads({ threads: 2 });
      const losses = kernel.forward(h, w, labels, 64, 200, 16).losses;
      const grads = kernel.backward(dy);
      expect(maxDiff(losses, expected.losses)).toBeLessThan(1e-5);
      expect(maxDiff(grads.dTable, expected.grads.dTable)).toBeLessThan(1e-6);
    }
    await vi.waitFor(() => expect(kernel.readyWorkers).toBe(1), { timeout: 10_000 });
    kernel.forward(h, w, labels, 64, 200, 16);
    expect(kernel.lastThreads).toBe(2);
    enableHeadKernelThreads({ threads: 1 });
  });

  it("rejects widths that are not multiples of 8 and bad thread counts; knows what fits its memory", () => {
    const kernel = new HeadKernel();
    expect(kernel.fits(512, 50257, 64)).toBe(true);
    expect(kernel.fits(8 * 1024, 50257, 768)).toBe(true); // gpt2-small, batch 8 (no logits cache)
    expect(kernel.fits(256 * 1024, 50257, 768)).toBe(false); // 1.2 GB of hidden states alone
    expect(kernel.fits(512, 50257, 60)).toBe(false);
    expect(() => kernel.forward(new Float32Array(12), new Float32Array(36), new Int32Array(1), 1, 3, 12)).toThrow(/width 12 is not a multiple of 8/);
    expect(() => new HeadKernel({ cacheLimit: -1 })).toThrow(/`cacheLimit` must be a non-negative integer \(bytes\), received -1/);
    expect(() => new HeadKernel({ shared: "yes" } as never)).toThrow(LayerConfigError);
    expect(() => new HeadKernel({ threads: 2 } as never)).toThrow(/HeadKernel has no option `threads`/);
    expect(() => enableHeadKernelThreads({ threads: 0 })).toThrow(LayerConfigError);
    expect(() => enableHeadKernelThreads({ threads: 2.5 })).toThrow(/threads/);
    expect(() => enableHeadKernelThreads({ thread: 2 } as never)).toThrow(/thread/);
  });
});

describe.skipIf(ON_TENSORFLOW)(offTensorflow("headCrossEntropy's implementation choice", "picks the kernel on cpu and wasm"), () => {
  it("auto picks the kernel on cpu and wasm for widths that are multiples of 8", async () => {
    for (const backend of ["cpu", "wasm"] as const) {
      await useBackend(backend);
      expect(usesHeadKernel("auto", 64)).toBe(true);
      expect(usesHeadKernel("auto", 12)).toBe(false);
      expect(usesHeadKernel("tfjs", 64)).toBe(false);
    }
  });

  it("kernel with an unsupported width is an error naming the option", async () => {
    await useBackend("cpu");
    const attempt = () => headCrossEntropy(tf.zeros([2, 12]), tf.zeros([5, 12]), tf.tensor1d([0, 1], "int32"), "kernel");
    expect(attempt).toThrow(LayerConfigError);
    expect(attempt).toThrow(/implementation "kernel" needs .* received width 12, 2 tokens, vocabulary 5/);
    const unknown = () => headCrossEntropy(tf.zeros([2, 8]), tf.zeros([5, 8]), tf.tensor1d([0, 1], "int32"), "gpu" as never);
    expect(unknown).toThrow(/`implementation` must be one of "auto", "kernel", "tfjs", "chunked", received "gpu"/);
  });

  it("a gradient still comes out right after another call used the kernel in between", async () => {
    await useBackend("cpu");
    const { h, w, labels } = problem(20, 50, 8, 4);
    const [ht, wt, yt] = [tf.tensor2d(h, [20, 8]), tf.tensor2d(w, [50, 8]), tf.tensor1d(labels, "int32")];
    const reference = tf.grads((a: tf.Tensor, b: tf.Tensor) => headCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, yt, "tfjs"))([ht, wt]);
    // Two kernel losses taped together: the second forward overwrites the first one's inputs.
    const [dh, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      const first = headCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, yt, "kernel");
      const second = headCrossEntropy(tf.mul(a, 0.5) as tf.Tensor2D, b as tf.Tensor2D, yt, "kernel");
      return tf.sub(first, tf.mul(second, 0)); // the second adds nothing but still runs
    })([ht, wt]);
    expect(tf.max(tf.abs(tf.sub(dh as tf.Tensor, reference[0] as tf.Tensor))).dataSync()[0]).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(tf.sub(dw as tf.Tensor, reference[1] as tf.Tensor))).dataSync()[0]).toBeLessThan(1e-6);
  });
});

describe.skipIf(ON_TENSORFLOW)(offTensorflow("the head kernel's wasm", KERNEL_ONLY), () => {
  it("is built from the current assembly sources (node scripts/build-wasm.mjs)", async () => {
    const { generate } = await import("../scripts/build-wasm.mjs");
    const committed = readFileSync(new URL("../src/head-kernel-wasm.ts", import.meta.url), "utf8");
    expect(committed === (await generate())).toBe(true);
  });

  it("a script with worker threads on exits by itself", () => {
    const dist = new URL("../dist/", import.meta.url);
    const script = `
      const { enableHeadKernelThreads } = await import(${JSON.stringify(new URL("node.js", dist).href)});
      const { headKernel } = await import(${JSON.stringify(new URL("head-kernel.js", dist).href)});
      enableHeadKernelThreads({ threads: 2 });
      const k = headKernel();
      for (let i = 0; i < 200 && k.readyWorkers < 1; i++) await new Promise((r) => setTimeout(r, 25));
      const f = k.forward(new Float32Array(64).fill(0.1), new Float32Array(80).fill(0.2), new Int32Array(8), 8, 10, 8);
      k.backward(new Float32Array(8).fill(1));
      console.log(\`threads \${k.lastThreads} loss \${f.losses[0].toFixed(4)}\`);
    `;
    // `node --input-type=module -e`: the flag must not reach the workers (it stops them starting).
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000, cwd: fileURLToPath(dist) });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(`threads 2 loss ${Math.log(10).toFixed(4)}`);
  });
});
