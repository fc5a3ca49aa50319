import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { headCrossEntropy, headPath } from "../src/head-cross-entropy.js";
import { sparseCrossEntropyFromLogits } from "../src/losses.js";
import { matMulTransposedB } from "../src/matmul.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

/** The unfused reference: the tied head's logits, then the per-token loss, then the mean. */
function unfused(hidden: tf.Tensor2D, table: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.mean(sparseCrossEntropyFromLogits(labels, matMulTransposedB(hidden, table)));
}

/** Plain tfjs ops only (tfjs's own matmul and log-softmax gradients), for an independent check on cpu. */
function plain(hidden: tf.Tensor2D, table: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const logits = tf.matMul(hidden, table, false, true);
  const logProbs = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, table.shape[0]), logProbs), -1))) as tf.Scalar;
}

const CASES = BACKENDS.flatMap((backend) => (["kernel", "tfjs", "chunked"] as const).map((implementation) => [backend, implementation] as const));

describe.each(CASES)("headCrossEntropy on %s, %s implementation", (backend, implementation) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  // "chunked" in chunks of 5 rows (5, 5, 2 for the 12 tokens below).
  const hce = (h: tf.Tensor2D, w: tf.Tensor2D, y: tf.Tensor) => headCrossEntropy(h, w, y, implementation, undefined, 5);

  const N = 12, C = 8, V = 37;
  const hidden = () => tf.randomNormal([N, C], 0, 1, "float32", 3) as tf.Tensor2D;
  const table = () => tf.randomNormal([V, C], 0, 0.5, "float32", 4) as tf.Tensor2D;
  // Repeated labels (0 twice, 36 three times) exercise the scatter-add of the weight gradient.
  const labels = () => tf.tensor1d([0, 5, 36, 36, 0, 7, 12, 36, 3, 3, 20, 1], "int32");

  it("equals the unfused head + sparseCrossEntropyFromLogits, value and gradients", () => {
    const [h, w, y] = [hidden(), table(), labels()];
    expect(hce(h, w, y).shape).toEqual([]);
    expect(maxAbsDiff(hce(h, w, y), unfused(h, w, y))).toBeLessThan(1e-5);
    const fusedGrads = tf.grads((a: tf.Tensor, b: tf.Tensor) => hce(a as tf.Tensor2D, b as tf.Tensor2D, y))([h, w]);
    const refGrads = tf.grads((a: tf.Tensor, b: tf.Tensor) => unfused(a as tf.Tensor2D, b as tf.Tensor2D, y))([h, w]);
    expect(maxAbsDiff(fusedGrads[0] as tf.Tensor, refGrads[0] as tf.Tensor)).toBeLessThan(1e-6);
    expect(maxAbsDiff(fusedGrads[1] as tf.Tensor, refGrads[1] as tf.Tensor)).toBeLessThan(1e-6);
    if (backend === "cpu") {
      const plainGrads = tf.grads((a: tf.Tensor, b: tf.Tensor) => plain(a as tf.Tensor2D, b as tf.Tensor2D, y))([h, w]);
      expect(maxAbsDiff(fusedGrads[0] as tf.Tensor, plainGrads[0] as tf.Tensor)).toBeLessThan(1e-6);
      expect(maxAbsDiff(fusedGrads[1] as tf.Tensor, plainGrads[1] as tf.Tensor)).toBeLessThan(1e-6);
    }
  });

  it("scales the gradients by the upstream gradient", () => {
    const [h, w, y] = [hidden(), table(), labels()];
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(hce(a as tf.Tensor2D, b as tf.Tensor2D, y), 3))([h, w]);
    const r = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(unfused(a as tf.Tensor2D, b as tf.Tensor2D, y), 3))([h, w]);
    expect(maxAbsDiff(g[1] as tf.Tensor, r[1] as tf.Tensor)).toBeLessThan(3e-6);
  });

  it("matches a numeric gradient of the table", () => {
    const [h, w, y] = [hidden(), table(), labels()];
    const analytic = tf.grad((b: tf.Tensor) => hce(h, b as tf.Tensor2D, y))(w).arraySync() as number[][];
    const eps = 1e-2;
    for (const [row, col] of [[0, 0], [36, 3], [20, 7], [30, 2]] as const) {
      const bump = (d: number) => tf.tidy(() => hce(h, tf.add(w, tf.scatterND([[row, col]], [d], [V, C])) as tf.Tensor2D, y).dataSync()[0] as number);
      const numeric = (bump(eps) - bump(-eps)) / (2 * eps);
      expect(analytic[row]?.[col]).toBeCloseTo(numeric, 3);
    }
  });

  it("stays exact when the label's probability underflows (loss > 88 nats)", () => {
    // Zero columns up to width 8 (the kernel's block) change no logit.
    const h = tf.pad(tf.tensor2d([[100, 0], [0, 1]]), [[0, 0], [0, 6]]) as tf.Tensor2D;
    const w = tf.pad(tf.tensor2d([[1, 0], [-1, 0], [0, 1]]), [[0, 0], [0, 6]]) as tf.Tensor2D;
    const y = tf.tensor1d([1, 2], "int32");
    // Row 0: logits [100, -100, 0], label 1: loss = logsumexp - (-100) = 200 (+ tiny).
    const expected = (200 + (Math.log(2 + Math.E) - 1)) / 2; // row 1: logits [0, 0, 1], label 2
    expect(hce(h, w, y).dataSync()[0]).toBeCloseTo(expected, 3);
    expect(Number.isFinite(tf.grad((a: tf.Tensor) => hce(a as tf.Tensor2D, w, y))(h).sum().dataSync()[0])).toBe(true);
  });

  it("rejects labels outside [0, V) and mismatched shapes", () => {
    expect(() => hce(hidden(), table(), tf.fill([N], V, "int32"))).toThrow(/label 37 .*\[0, 37\)/);
    expect(() => hce(hidden(), table(), tf.zeros([N - 1], "int32"))).toThrow(/11 labels for 12 hidden states/);
    expect(() => hce(hidden(), tf.zeros([V, C + 1]) as tf.Tensor2D, labels())).toThrow(/must be \[N, C\] and \[V, C\]/);
  });

  it("does not leak tensors in forward and backward passes", () => {
    const [h, w, y] = [hidden(), table(), labels()];
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.dispose(hce(h, w, y));
      tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => hce(a as tf.Tensor2D, b as tf.Tensor2D, y))([h, w]));
    }
    expect(tf.memory().numTensors).toBe(before);
    // Taped but never differentiated (the gradient wants an unrelated tensor): the probabilities
    // kept for that gradient are dropped by the next call.
    const other = tf.ones([2]);
    tf.dispose(tf.grad((o: tf.Tensor) => tf.add(hce(h, w, y), tf.sum(o)))(other));
    tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => hce(a as tf.Tensor2D, b as tf.Tensor2D, y))([h, w]));
    other.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(BACKENDS)("headCrossEntropy's chunked path on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("holds one chunk of probabilities at a time: its peak memory is a fraction of the tfjs path's, same loss and gradients", async () => {
    const [N, C, V] = [256, 16, 2048];
    const h = tf.randomNormal([N, C], 0, 1, "float32", 5) as tf.Tensor2D;
    const w = tf.randomNormal([V, C], 0, 0.5, "float32", 6) as tf.Tensor2D;
    const y = tf.tensor1d(Array.from({ length: N }, (_, i) => (i * 37) % V), "int32");
    const run = (implementation: "tfjs" | "chunked") => tf.grads((a: tf.Tensor, b: tf.Tensor) => headCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, y, implementation, undefined, 32))([h, w]);
    const peak = async (implementation: "tfjs" | "chunked") => (await tf.profile(() => tf.dispose(run(implementation)))).peakBytes - tf.memory().numBytes;
    const [tfjsPeak, chunkedPeak] = [await peak("tfjs"), await peak("chunked")];
    // tfjs: [256, 2048] logits + probabilities (2 x 2 MiB); chunked: [32, 2048] at a time.
    expect(tfjsPeak).toBeGreaterThan(2 * N * V * 4);
    expect(chunkedPeak).toBeLessThan(tfjsPeak / 3);
    const [a, b] = [run("tfjs"), run("chunked")];
    expect(maxAbsDiff(a[0] as tf.Tensor, b[0] as tf.Tensor)).toBeLessThan(1e-6);
    expect(maxAbsDiff(a[1] as tf.Tensor, b[1] as tf.Tensor)).toBeLessThan(1e-6);
    expect(maxAbsDiff(headCrossEntropy(h, w, y, "chunked", undefined, 32), headCrossEntropy(h, w, y, "tfjs"))).toBeLessThan(1e-5);
    expect(() => headCrossEntropy(h, w, y, "chunked", undefined, 0)).toThrow(/`chunkRows` must be a positive integer, received 0/);
  });

  it('"auto" chunks only on a GPU backend and only above 256 MiB of logits', () => {
    expect(headPath("auto", 12, 2048, 50257)).toBe("tfjs"); // cpu, wasm, tensorflow on the CPU: tfjs ops (width 12: no kernel)
    expect(headPath("chunked", 12, 8, 50)).toBe("chunked");
    expect(headPath("tfjs", 64, 8, 50)).toBe("tfjs");
  });
});

