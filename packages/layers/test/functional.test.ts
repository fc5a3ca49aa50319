import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { withDropoutSeed } from "../src/dropout-seed.js";
import { gelu, layerNorm, linear, maybeDropout } from "../src/functional.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

/** GPT-2's GELU written with plain tfjs ops (autodiff gradient through `pow`), the reference. */
function geluReference(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

describe.each(BACKENDS)("gelu on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  // Wide range: both tails (where tanh saturates) and the curved middle.
  const x = () => tf.mul(tf.randomNormal([64, 48], 0, 1, "float32", 7), 3);

  it("equals the tanh formula, value and gradient (with an upstream gradient)", () => {
    const xs = x();
    const dy = tf.randomUniform([64, 48], -1, 1, "float32", 8);
    expect(maxAbsDiff(gelu(xs), geluReference(xs))).toBeLessThan(1e-5);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gelu(a), dy)))(xs);
    const ref = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(geluReference(a), dy)))(xs);
    expect(maxAbsDiff(g, ref)).toBeLessThan(1e-5);
    // Known values: gelu(0) = 0, gelu'(0) = 0.5, gelu(x) ~ x for large x.
    const k = tf.tensor1d([0, 10, -10]);
    expect(Array.from(gelu(k).dataSync())).toEqual([0, expect.closeTo(10, 5), expect.closeTo(0, 5)]);
    expect(tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(tf.tensor1d([0])).dataSync()[0]).toBeCloseTo(0.5, 6);
  });

  it("does not leak tensors, forward or backward", () => {
    const xs = x();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      gelu(xs);
    });
    const g = tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(xs);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** Layer norm written with plain broadcasting tfjs ops (autodiff gradient), the reference. */
function layerNormReference(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): tf.Tensor {
  const centered = tf.sub(x, tf.mean(x, -1, true));
  const variance = tf.mean(tf.square(centered), -1, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
}

describe.each(BACKENDS)("layerNorm and linear on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  // Rows with different means and scales, so that every per-row broadcast matters.
  const x = () => tf.add(tf.mul(tf.randomNormal([24, 16], 0, 1, "float32", 3), tf.range(1, 25).reshape([24, 1])), tf.range(0, 24).reshape([24, 1])) as tf.Tensor2D;
  const gamma = () => tf.randomNormal([16], 1, 0.5, "float32", 4) as tf.Tensor1D;
  const beta = () => tf.randomNormal([16], 0, 0.5, "float32", 5) as tf.Tensor1D;

  it("layerNorm equals the broadcasting formula, value and the gradients of x, gamma and beta", () => {
    const [xs, g, b] = [x(), gamma(), beta()];
    const dy = tf.randomUniform([24, 16], -1, 1, "float32", 6);
    expect(maxAbsDiff(layerNorm(xs, g, b, 1e-5), layerNormReference(xs, g, b, 1e-5))).toBeLessThan(1e-5);
    const loss = (f: typeof layerNorm) => (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor2D, c as tf.Tensor1D, d as tf.Tensor1D, 1e-5), dy));
    const got = tf.grads(loss(layerNorm))([xs, g, b]);
    const want = tf.grads(loss(layerNormReference as typeof layerNorm))([xs, g, b]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(got[i] as tf.Tensor, want[i] as tf.Tensor)).toBeLessThan(1e-4);
    // A large epsilon changes the result (it is used, not a constant of the kernel).
    expect(maxAbsDiff(layerNorm(xs, g, b, 10), layerNormReference(xs, g, b, 10))).toBeLessThan(1e-5);
  });

  it("linear with a bias equals x @ kernel + bias, value and the gradients of all three", () => {
    const xs = x();
    const kernel = tf.randomNormal([16, 8], 0, 1, "float32", 7) as tf.Tensor2D;
    const bias = tf.randomNormal([8], 0, 1, "float32", 8) as tf.Tensor1D;
    const dy = tf.randomUniform([24, 8], -1, 1, "float32", 9);
    const reference = (a: tf.Tensor2D, k: tf.Tensor2D, c: tf.Tensor1D) => tf.add(tf.matMul(a, k), c) as tf.Tensor2D;
    expect(maxAbsDiff(linear(xs, kernel, bias), reference(xs, kernel, bias))).toBeLessThan(1e-4);
    const loss = (f: typeof reference) => (a: tf.Tensor, k: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor2D, k as tf.Tensor2D, c as tf.Tensor1D), dy));
    const got = tf.grads(loss(linear as typeof reference))([xs, kernel, bias]);
    const want = tf.grads(loss(reference))([xs, kernel, bias]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(got[i] as tf.Tensor, want[i] as tf.Tensor)).toBeLessThan(1e-4);
  });

  it("do not leak tensors, forward or backward", () => {
    const [xs, g, b] = [x(), gamma(), beta()];
    const kernel = tf.ones([16, 4]) as tf.Tensor2D;
    const bias = tf.ones([4]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      linear(layerNorm(xs, g, b), kernel, bias);
    });
    const grads = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(linear(layerNorm(a as tf.Tensor2D, c as tf.Tensor1D, d as tf.Tensor1D), kernel, bias)))([xs, g, b]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(BACKENDS)("maybeDropout on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("keeps 1 - rate of the entries, scaled by 1 / (1 - rate); the gradient is the same mask; a seed gives one mask", () => {
    const x = tf.ones([200, 500]);
    const dropped = (seed: number) => withDropoutSeed(seed, undefined, () => maybeDropout(x, 0.1, true));
    const a = dropped(5).dataSync();
    const kept = a.filter((v) => v !== 0);
    expect(kept.length / a.length).toBeGreaterThan(0.895);
    expect(kept.length / a.length).toBeLessThan(0.905);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.9)]));
    expect(Array.from(dropped(5).dataSync())).toEqual(Array.from(a));
    expect(Array.from(dropped(6).dataSync())).not.toEqual(Array.from(a));
    const g = withDropoutSeed(5, undefined, () => tf.grad((t: tf.Tensor) => tf.sum(maybeDropout(t, 0.1, true)))(x)).dataSync();
    expect(Array.from(g)).toEqual(Array.from(a));
    expect(maybeDropout(x, 0.1, false)).toBe(x);
    expect(maybeDropout(x, 0, true)).toBe(x);
  });

  it("does not leak tensors", () => {
    const x = tf.ones([8, 8]);
    const before = tf.memory().numTensors;
    withDropoutSeed(1, undefined, () => maybeDropout(x, 0.5, true)).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
