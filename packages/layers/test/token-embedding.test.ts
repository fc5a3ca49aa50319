import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { LayerConfigError } from "../src/errors.js";
import { idsTensor } from "../src/id-range.js";
import { TokenEmbedding, checkIds, embeddingLookup } from "../src/token-embedding.js";
import "../src/register.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

describe.each(BACKENDS)("TokenEmbedding on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("looks ids up and returns [..., embeddingDim]", () => {
    const emb = new TokenEmbedding({ vocabSize: 5, embeddingDim: 3, embeddingsInitializer: "glorotUniform" });
    const ids = tf.tensor2d([[0, 4], [2, 2]], [2, 2], "int32");
    const out = emb.apply(ids) as tf.Tensor;
    expect(out.shape).toEqual([2, 2, 3]);
    const table = emb.table.read();
    expect(maxAbsDiff(out, tf.gather(table, ids))).toBe(0);
  });

  it("has the reference gradient of gather, duplicate ids included", () => {
    const table = tf.randomNormal([7, 4], 0, 1, "float32", 1) as tf.Tensor2D;
    const ids = tf.tensor2d([[1, 3, 1], [6, 1, 0]], [2, 3], "int32");
    const weights = tf.randomNormal([2, 3, 4], 0, 1, "float32", 2);
    const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t as tf.Tensor2D, ids), weights)))(table);
    // Reference: the one-hot matmul form of the same lookup, differentiated by tfjs.
    const oneHot = tf.reshape(tf.oneHot(tf.reshape(ids, [-1]), 7), [6, 7]);
    const reference = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.reshape(tf.matMul(oneHot, t as tf.Tensor2D), [2, 3, 4]), weights)))(table);
    expect(maxAbsDiff(ours, reference)).toBeLessThan(1e-5);
    // Row 1 appears three times: its gradient is the sum of three rows of `weights`.
    const w = weights.reshape([6, 4]);
    const row1 = tf.addN([w.slice([0, 0], [1, 4]), w.slice([2, 0], [1, 4]), w.slice([4, 0], [1, 4])]);
    expect(maxAbsDiff(ours.slice([1, 0], [1, 4]), row1)).toBeLessThan(1e-5);
  });

  it("computes the gradient of 512 tokens through a 50,257 x 64 table (GPT vocabulary)", () => {
    const table = tf.zeros([50257, 64]) as tf.Tensor2D;
    const ids = tf.tensor1d(Array.from({ length: 512 }, (_, i) => (i * 7919) % 50257), "int32");
    const g = tf.grad((t: tf.Tensor) => tf.sum(embeddingLookup(t as tf.Tensor2D, ids)))(table);
    expect(g.shape).toEqual([50257, 64]);
    expect(tf.sum(g).dataSync()[0]).toBeCloseTo(512 * 64, 0);
    tf.dispose([table, ids, g]);
  });

  it("rejects out-of-range and non-int32 ids with the id and vocabSize", () => {
    const emb = new TokenEmbedding({ vocabSize: 10, embeddingDim: 2 });
    expect(() => emb.apply(tf.tensor1d([3, 10], "int32"))).toThrow(/token id 10 .*out of range.*\[0, 10\)/);
    expect(() => emb.apply(tf.tensor1d([-1], "int32"))).toThrow(LayerConfigError);
    expect(() => emb.embed(tf.tensor1d([1.5]))).toThrow(/must be int32, received float32/);
  });

  it("validates its options, naming the option and the value", () => {
    expect(() => new TokenEmbedding({ vocabSize: 0, embeddingDim: 2 })).toThrow(/`vocabSize` must be a positive integer, received 0/);
    expect(() => new TokenEmbedding({ vocabSize: 3, embeddingDim: 2.5 })).toThrow(/`embeddingDim` must be a positive integer, received 2.5/);
    expect(() => new TokenEmbedding({ vocabSize: 3, embeddingDim: 2, embeddingsInitializer: "nope" })).toThrow(/`embeddingsInitializer`/);
  });

  it("acts as the tied head: logits = hidden @ table^T with the reference gradient", () => {
    const emb = new TokenEmbedding({ vocabSize: 11, embeddingDim: 4 });
    emb.build();
    const hidden = tf.randomNormal([2, 3, 4], 0, 1, "float32", 3);
    const logits = emb.apply(hidden) as tf.Tensor;
    expect(logits.shape).toEqual([2, 3, 11]);
    const table = emb.table.read() as tf.Tensor2D;
    const reference = tf.matMul(tf.reshape(hidden, [6, 4]) as tf.Tensor2D, table, false, true).reshape([2, 3, 11]);
    expect(maxAbsDiff(logits, reference)).toBeLessThan(1e-5);

    const w = tf.randomNormal([2, 3, 11], 0, 1, "float32", 4);
    const variable = emb.table.read() as tf.Variable;
    const loss = (h: tf.Tensor) => tf.sum(tf.mul(emb.logits(h), w)) as tf.Scalar;
    const { grads } = tf.variableGrads(() => loss(hidden), [variable]);
    const hiddenGrad = tf.grad(loss)(hidden);
    const [refHidden, refTable] = tf.grads((h: tf.Tensor, t: tf.Tensor) =>
      tf.sum(tf.mul(tf.matMul(tf.reshape(h, [6, 4]) as tf.Tensor2D, t as tf.Tensor2D, false, true).reshape([2, 3, 11]), w)),
    )([hidden, table]) as [tf.Tensor, tf.Tensor];
    expect(maxAbsDiff(grads[variable.name] as tf.Tensor, refTable)).toBeLessThan(1e-4);
    expect(maxAbsDiff(hiddenGrad, refHidden)).toBeLessThan(1e-4);
  });

  // Build, config round trip (initializer included), save/load, a training step and leaks:
  // layers.test.ts (the shared harness).
});

describe("checkIds on a GPU backend", () => {
  it("refuses ids without a recorded range on a GPU backend (no synchronous read-back), naming the way out", async () => {
    // A backend registered under the name "webgl" (host memory, no kernels: checkIds needs none
    // before it decides); the real webgpu/webgl run is in packages/web's gpu-backends test.
    const before = tf.getBackend();
    const cpu = tf.findBackendFactory("cpu");
    if (cpu === null) throw new Error("the cpu backend is not registered");
    tf.registerBackend("webgl", cpu, -1);
    try {
      expect(await tf.setBackend("webgl")).toBe(true);
      const plain = tf.tensor1d([1, 2], "int32");
      expect(() => checkIds(plain, 10)).toThrow(/token ids of a tensor without a recorded id range cannot be checked on the webgl backend.*idsTensor\(\)/);
      const recorded = idsTensor(Int32Array.from([1, 2]), [2]);
      expect(() => checkIds(recorded, 10)).not.toThrow();
      expect(() => checkIds(idsTensor(Int32Array.from([1, 10]), [2]), 10)).toThrow(/token id 10 .*out of range/);
      tf.dispose([plain, recorded]);
    } finally {
      await tf.setBackend(before);
      tf.removeBackend("webgl");
    }
  });
});
