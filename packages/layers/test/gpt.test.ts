import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { countParams, createGPT, GPT_PRESETS, parseGPTConfig } from "../src/gpt.js";
import { sparseCrossEntropyFromLogits } from "../src/losses.js";
import { TokenEmbedding } from "../src/token-embedding.js";
import "../src/register.js";
import { MAIN_BACKEND, useBackend } from "./backends.js";

const small = { ...GPT_PRESETS.tiny, vocabSize: 97, contextLength: 16, embeddingDim: 32 };

/** A learnable toy language: token i is followed by (i * 3 + 1) mod 97. */
function toyBatch(rows: number, length: number, labelRank: 2 | 3) {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let r = 0; r < rows; r++) {
    let id = (r * 13) % 97;
    for (let t = 0; t < length; t++) {
      xs.push(id);
      id = (id * 3 + 1) % 97;
      ys.push(id);
    }
  }
  return {
    xs: tf.tensor2d(xs, [rows, length], "int32"),
    ys: labelRank === 3 ? tf.tensor3d(ys, [rows, length, 1], "int32") : tf.tensor2d(ys, [rows, length], "int32"),
  };
}

describe("GPT config and size", () => {
  it("counts gpt2-small at ~124M parameters with tied weights (the book's GPT_CONFIG_124M)", () => {
    expect(countParams(GPT_PRESETS["gpt2-small"])).toBe(124_412_160);
    expect(countParams({ ...GPT_PRESETS["gpt2-small"], tieWeights: false })).toBe(124_412_160 + 50257 * 768);
    expect(countParams(GPT_PRESETS.tiny)).toBe(50257 * 64 + 64 * 64 + 2 * (12 * 64 * 64 + 10 * 64) + 2 * 64);
  });

  it("validates the config with messages that name the field", () => {
    expect(() => parseGPTConfig({ ...small, numHeads: 5 })).toThrow(/`numHeads` must divide `embeddingDim` \(32\), received 5/);
    expect(() => parseGPTConfig({ ...small, numLayers: 0 })).toThrow(/`numLayers` must be a positive integer, received 0/);
    expect(parseGPTConfig({ vocabSize: 5, contextLength: 4, embeddingDim: 4, numHeads: 1, numLayers: 1 })).toMatchObject({
      dropout: 0,
      qkvBias: false,
      tieWeights: true,
    });
  });
});

describe(`GPT on ${MAIN_BACKEND}`, () => {
  beforeAll(async () => {
    await useBackend(MAIN_BACKEND);
  });

  it("maps ids [b, T] to logits [b, T, V] for any T <= contextLength, with the counted parameters and a tied head", () => {
    const model = createGPT(small);
    expect(model.countParams()).toBe(countParams(small));
    const wte = model.getLayer("wte") as TokenEmbedding;
    expect(wte.inboundNodes).toHaveLength(2); // called on ids and on the final hidden states
    expect((model.predict(tf.zeros([2, 16], "int32")) as tf.Tensor).shape).toEqual([2, 16, 97]);
    expect((model.predict(tf.zeros([1, 3], "int32")) as tf.Tensor).shape).toEqual([1, 3, 97]);
    expect(() => model.predict(tf.zeros([1, 17], "int32"))).toThrow(/cannot embed a sequence of 17 positions, maxLength is 16/);
    const untied = createGPT({ ...small, tieWeights: false });
    expect(untied.countParams()).toBe(countParams({ ...small, tieWeights: false }));
  });

  it("GPT-2 init: tables and kernels ~N(0, 0.02), residual projections scaled by 1/sqrt(2 * numLayers)", () => {
    const model = createGPT({ ...small, embeddingDim: 64, numLayers: 8 });
    const std = (name: string) => {
      const w = model.getWeights().find((_, i) => model.weights[i]?.originalName.endsWith(name));
      if (w === undefined) throw new Error(`no weight ${name}`);
      return Math.sqrt(tf.moments(w).variance.dataSync()[0] as number);
    };
    expect(std("wte/embeddings")).toBeCloseTo(0.02, 2);
    expect(std("h0/mlp/c_fc/kernel")).toBeCloseTo(0.02, 2);
    expect(std("h0/mlp/c_proj/kernel")).toBeCloseTo(0.02 / 4, 3);
  });

  it("trains: the loss falls over a few fit steps (labels [b, T, 1])", async () => {
    const model = createGPT(small);
    model.compile({ optimizer: tf.train.adam(1e-2), loss: sparseCrossEntropyFromLogits });
    const { xs, ys } = toyBatch(16, 16, 3);
    const history = await model.fit(xs, ys, { epochs: 6, batchSize: 8, verbose: 0, shuffle: false });
    const losses = history.history["loss"] as number[];
    expect(losses[0]).toBeGreaterThan(Math.log(97) - 0.5);
    expect(losses[losses.length - 1]).toBeLessThan((losses[0] as number) * 0.7);
  });

  it("trains with fitDataset on [b, T] labels, and does not leak per step", async () => {
    const model = createGPT(small);
    model.compile({ optimizer: tf.train.adam(1e-2), loss: sparseCrossEntropyFromLogits });
    const batches = () => {
      const { xs, ys } = toyBatch(8, 16, 2);
      return { xs, ys };
    };
    const dataset = tf.data.generator(function* () {
      for (let i = 0; i < 3; i++) yield batches();
    });
    await model.fitDataset(dataset, { epochs: 1, verbose: 0 });
    const tensors = tf.memory().numTensors;
    const history = await model.fitDataset(dataset, { epochs: 2, verbose: 0 });
    expect(tf.memory().numTensors).toBe(tensors);
    const losses = history.history["loss"] as number[];
    expect(losses[1]).toBeLessThan(losses[0] as number);
  });

  it("dispose releases every weight, the tied table too (tfjs counts wte's two calls)", () => {
    const before = tf.memory().numTensors;
    for (const tieWeights of [true, false]) {
      const model = createGPT({ ...small, tieWeights });
      expect(tf.memory().numTensors).toBeGreaterThan(before);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it("runs one fit step of the real tiny preset (50,257 vocab, context 64)", async () => {
    const model = createGPT(GPT_PRESETS.tiny);
    model.compile({ optimizer: tf.train.adam(1e-3), loss: sparseCrossEntropyFromLogits });
    const xs = tf.randomUniform([2, 64], 0, 50257, "int32");
    const ys = tf.randomUniform([2, 64, 1], 0, 50257, "int32");
    const history = await model.fit(xs, ys, { epochs: 1, batchSize: 2, verbose: 0 });
    const loss = (history.history["loss"] as number[])[0] as number;
    expect(loss).toBeGreaterThan(Math.log(50257) - 0.2); // untrained: about uniform
    expect(loss).toBeLessThan(Math.log(50257) + 0.2);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
