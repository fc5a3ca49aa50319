import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { DataLoader } from "../src/data-loader.js";
import { GPTDataset } from "../src/gpt-dataset.js";
import { toTensors, toTfDataset } from "../src/tf-dataset.js";
import { iota, rows } from "./python-reference.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

const VOCAB = 16;

/**
 * Cross-entropy of int32 ids `[b, T]` against probabilities `[b, T, V]`. tfjs's own
 * "sparseCategoricalCrossentropy" calls `floor` on the labels, which refuses int32 tensors.
 */
function idsCrossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.reshape(yTrue, [-1]) as tf.Tensor1D, VOCAB);
    const p = tf.sum(tf.mul(oneHot, tf.reshape(yPred, [-1, VOCAB])), -1);
    return tf.neg(tf.mean(tf.log(tf.clipByValue(p, 1e-7, 1))));
  });
}
const ids = iota(203).map((i) => i % VOCAB); // repeating 0..15: learnable next token
const dataset = new GPTDataset(ids, { maxLength: 8, stride: 4 }); // 49 windows

describe("toTfDataset", () => {
  it("yields int32 {xs, ys} [batch, maxLength] equal to the loader's batches, one epoch per pass", async () => {
    const loader = new DataLoader(dataset, { batchSize: 10, shuffle: true, seed: 4 });
    const reference = new DataLoader(dataset, { batchSize: 10, shuffle: true, seed: 4 });
    const ds = toTfDataset(loader);
    for (let pass = 0; pass < 2; pass++) {
      const shapes: number[][] = [];
      await ds.forEachAsync(({ xs, ys }) => {
        const want = reference.nextBatch();
        expect(xs.dtype).toBe("int32");
        expect(ys.dtype).toBe("int32");
        shapes.push(xs.shape);
        expect(ys.shape).toEqual(xs.shape);
        expect(xs.arraySync()).toEqual(rows(want.inputs, 8));
        expect(ys.arraySync()).toEqual(rows(want.targets, 8));
        tf.dispose([xs, ys]);
      });
      expect(shapes).toEqual([[10, 8], [10, 8], [10, 8], [10, 8], [9, 8]]);
      expect(loader.epoch).toBe(pass + 1); // each pass restarts cleanly on the next epoch
    }
  });

  it("runs `epochs` loader epochs per pass", async () => {
    const loader = new DataLoader(dataset, { batchSize: 7 }); // 7 batches
    let n = 0;
    await toTfDataset(loader, { epochs: 3 }).forEachAsync((b) => {
      n++;
      tf.dispose(b);
    });
    expect(n).toBe(21);
    expect(loader.epoch).toBe(3);
    expect(() => toTfDataset(loader, { epochs: 0 })).toThrow(/`epochs` must be a positive integer or Infinity, received 0/);
    const endless: number[] = [];
    await toTfDataset(loader, { epochs: Infinity }).take(16).forEachAsync((b) => {
      endless.push(b.xs.shape[0]);
      tf.dispose(b);
    });
    expect(endless).toHaveLength(16); // crosses loader epochs (7 batches each) without stopping
    expect(loader.state()).toMatchObject({ epoch: 5, batchIndex: 2 });
  });

  it("does not leak: tf.memory().numTensors stays flat over an epoch", async () => {
    const loader = new DataLoader(dataset, { batchSize: 4 }); // 13 batches
    const ds = toTfDataset(loader);
    const before = tf.memory().numTensors;
    const during: number[] = [];
    await ds.forEachAsync(({ xs, ys }) => {
      during.push(tf.memory().numTensors - before);
      tf.dispose([xs, ys]);
    });
    expect(during.length).toBe(13);
    expect(new Set(during)).toEqual(new Set([2])); // only the current batch's two tensors alive
    expect(tf.memory().numTensors).toBe(before);
  });

  it("is accepted by model.fitDataset (embedding -> dense, tiny vocabulary)", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: VOCAB, outputDim: 8, inputLength: 8 }),
        tf.layers.dense({ units: VOCAB, activation: "softmax" }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: idsCrossEntropy });
    const loader = new DataLoader(dataset, { batchSize: 8, shuffle: true, seed: 1 });
    const before = tf.memory().numTensors;
    const history = await model.fitDataset(toTfDataset(loader), { epochs: 3, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses).toHaveLength(3);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[2]!).toBeLessThan(losses[0]!); // it trains on the batches
    expect(loader.epoch).toBe(3);
    // fitDataset disposes the batches; only optimizer slots may have been added.
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(model.trainableWeights.length * 2);
    model.dispose();
  });
});

describe("toTensors", () => {
  it("gives every window as int32 [N, maxLength]", () => {
    const { xs, ys } = toTensors(dataset);
    expect(xs.shape).toEqual([49, 8]);
    expect(xs.dtype).toBe("int32");
    expect(ys.dtype).toBe("int32");
    const x = xs.arraySync();
    const y = ys.arraySync();
    expect(x[5]).toEqual(Array.from(dataset.get(5).input));
    expect(y[48]).toEqual(Array.from(dataset.get(48).target));
    tf.dispose([xs, ys]);
    expect(() => toTensors(dataset, { targets: "onehot" as never })).toThrow(/`targets` must be "ids" or "keras", received "onehot"/);
  });

  it('gives float32 [N, maxLength, 1] targets with {targets: "keras"}, which model.fit accepts', async () => {
    const { xs, ys } = toTensors(dataset, { targets: "keras" });
    expect(xs.dtype).toBe("int32");
    expect(ys.dtype).toBe("float32");
    expect(ys.shape).toEqual([49, 8, 1]);
    expect((ys.arraySync() as number[][][])[48]!.map((r) => r[0])).toEqual(Array.from(dataset.get(48).target));
    const model = tf.sequential({
      layers: [tf.layers.embedding({ inputDim: VOCAB, outputDim: 4, inputLength: 8 }), tf.layers.dense({ units: VOCAB, activation: "softmax" })],
    });
    model.compile({ optimizer: "sgd", loss: "sparseCategoricalCrossentropy" });
    const history = await model.fit(xs, ys, { batchSize: 16, epochs: 1, verbose: 0 });
    expect(Number.isFinite(history.history.loss![0] as number)).toBe(true);
    model.dispose();
    tf.dispose([xs, ys]);
  });
});
