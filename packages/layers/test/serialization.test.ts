import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGPT, GPT_PRESETS } from "../src/gpt.js";
import { LayerNorm } from "../src/layer-norm.js";
import { sparseCrossEntropyFromLogits } from "../src/losses.js";
import { loadModelFromDir, saveModelToDir } from "../src/model-files.js";
import { PositionalEmbedding } from "../src/positional-embedding.js";
import { TokenAndPositionEmbedding } from "../src/token-and-position-embedding.js";
import "../src/register.js";
import { MAIN_BACKEND, maxAbsDiff, useBackend } from "./backends.js";
import { saveAndLoad } from "./layer-harness.js";

const small = { ...GPT_PRESETS.tiny, vocabSize: 61, contextLength: 8, embeddingDim: 16, qkvBias: true };

describe("save and load", () => {
  let dir = "";
  beforeAll(async () => {
    await useBackend(MAIN_BACKEND);
    dir = await mkdtemp(path.join(os.tmpdir(), "tfgpt-layers-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const ids = () => tf.tensor2d([[1, 5, 60, 0, 7], [3, 3, 3, 2, 1]], [2, 5], "int32");

  it("round-trips a GPT in memory: identical outputs, head still tied", async () => {
    const model = createGPT(small);
    const { loaded, artifacts } = await saveAndLoad(model);
    expect(maxAbsDiff(model.predict(ids()) as tf.Tensor, loaded.predict(ids()) as tf.Tensor)).toBe(0);
    expect(loaded.countParams()).toBe(model.countParams());
    expect(loaded.getLayer("wte").inboundNodes).toHaveLength(2);
    // tfjs stores configs in Python's snake_case and converts them back when loading.
    const json = JSON.stringify(artifacts.modelTopology);
    expect(json).toContain('"vocab_size":61');
    expect(json).toContain('"class_name":"TransformerBlock"');

    // Still tied after loading: moving the token table moves the logits through the head too.
    const wte = loaded.getLayer("wte");
    const [table] = wte.getWeights() as [tf.Tensor];
    const before = loaded.predict(ids()) as tf.Tensor;
    // One coordinate, not the whole row: the final LayerNorm's outputs sum to ~0 at initialisation
    // (gamma 1, beta 0), so adding 1 everywhere moved the logit by rounding noise only (seen: 0).
    const shiftedRow = tf.concat([table.slice([0, 0], [60, 16]), tf.add(table.slice([60, 0], [1, 16]), tf.oneHot([0], 16))]);
    wte.setWeights([shiftedRow]);
    const after = loaded.predict(ids()) as tf.Tensor;
    // Row 60 is used by one input position only, but as the head it changes logit 60 at every position.
    const changedAtOtherRow = tf.sub(after, before).slice([1, 0, 60], [1, 5, 1]);
    expect(tf.min(tf.abs(changedAtOtherRow)).dataSync()[0]).toBeGreaterThan(0);
  });

  it("round-trips through a directory (model.json + weights.bin), compiled, and keeps training", async () => {
    const model = createGPT(small);
    model.compile({ optimizer: tf.train.adam(1e-2), loss: sparseCrossEntropyFromLogits });
    const target = path.join(dir, "gpt");
    await saveModelToDir(model, target);
    expect(existsSync(path.join(target, "model.json"))).toBe(true);
    expect(existsSync(path.join(target, "weights.bin"))).toBe(true);
    const loaded = await loadModelFromDir(target);
    expect(maxAbsDiff(model.predict(ids()) as tf.Tensor, loaded.predict(ids()) as tf.Tensor)).toBe(0);
    loaded.compile({ optimizer: tf.train.adam(1e-2), loss: sparseCrossEntropyFromLogits });
    const y = tf.expandDims(tf.tensor2d([[5, 60, 0, 7, 1], [3, 3, 2, 1, 0]], [2, 5], "int32"), -1);
    const history = await loaded.fit(ids(), y, { epochs: 3, verbose: 0 });
    const losses = history.history["loss"] as number[];
    expect(losses[2]).toBeLessThan(losses[0] as number);
  });

  it("keeps option values through tfjs's snake/camel rewriting (sinusoidal kind, initializers, epsilon)", async () => {
    const input = tf.input({ shape: [null], dtype: "int32" });
    const embed = new TokenAndPositionEmbedding({ vocabSize: 20, maxLength: 6, embeddingDim: 4, kind: "sinusoidal", name: "embed" });
    const pos = new PositionalEmbedding({ maxLength: 6, embeddingDim: 4, kind: "sinusoidal", name: "pos" });
    const sum = tf.layers.add().apply([embed.apply(input) as tf.SymbolicTensor, pos.apply(input) as tf.SymbolicTensor]) as tf.SymbolicTensor;
    const out = new LayerNorm({ epsilon: 1e-3, name: "norm" }).apply(sum) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const { loaded } = await saveAndLoad(model);
    const x = tf.tensor2d([[1, 2, 19]], [1, 3], "int32");
    expect(maxAbsDiff(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor)).toBe(0);
    expect((loaded.getLayer("pos") as PositionalEmbedding).kind).toBe("sinusoidal");
    expect((loaded.getLayer("embed") as TokenAndPositionEmbedding).kind).toBe("sinusoidal");
    expect((loaded.getLayer("norm") as LayerNorm).epsilon).toBe(1e-3);
    // JSON drops an unset initializer seed (undefined) and tfjs reads it back as null.
    const plain = (c: object) => JSON.parse(JSON.stringify(c, (_k, v: unknown) => (v === null ? undefined : v))) as unknown;
    expect(plain(loaded.getLayer("embed").getConfig())).toEqual(plain(embed.getConfig()));
  });
});
