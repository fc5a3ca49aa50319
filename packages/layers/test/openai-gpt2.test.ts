/**
 * OpenAI's GPT-2 release layout loaded as a GPT: the fixture holds hf-gpt2-tiny's weights (made by
 * transformers) written by TensorFlow's Saver as OpenAI's files (scripts/make-openai-checkpoint-fixture.py),
 * with reference logits from an independent NumPy GPT-2.
 */
import * as tf from "@tensorflow/tfjs";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gptConfigOfModel } from "../src/pretrained.js";
import { loadOpenAIGPT2, parseOpenAIHParams } from "../src/openai-gpt2.js";
import { fromPretrained, isOpenAIGPT2Dir, isPretrainedDir, pretrainedGPTConfig } from "../src/pretrained-node.js";
import "../src/register.js";
import { tensorBundleFromBuffers } from "../src/tensor-bundle.js";
import { MAIN_BACKEND, maxAbsDiff, useBackend } from "./backends.js";

const OPENAI = path.join(import.meta.dirname, "fixtures", "openai-gpt2-tiny");
const HF = path.join(import.meta.dirname, "fixtures", "hf-gpt2-tiny");
const reference = JSON.parse(readFileSync(path.join(OPENAI, "reference.json"), "utf8")) as {
  ids: number[];
  logitRows: number[];
  logits: number[][];
  greedy: number[];
};
const tmp = mkdtempSync(path.join(os.tmpdir(), "tfgpt-openai-"));

beforeAll(async () => {
  await useBackend(MAIN_BACKEND);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function logitsOf(model: tf.LayersModel, ids: number[]): tf.Tensor2D {
  return tf.tidy(() => (model.predict(tf.tensor2d(ids, [1, ids.length], "int32")) as tf.Tensor).reshape([ids.length, -1]) as tf.Tensor2D);
}

describe("OpenAI's GPT-2 release directory", () => {
  it("is recognised and configured as GPT-2 (qkv bias, tied head) from hparams.json", async () => {
    expect(await isOpenAIGPT2Dir(OPENAI)).toBe(true);
    expect(await isOpenAIGPT2Dir(HF)).toBe(false);
    expect(await isPretrainedDir(OPENAI)).toBe(true);
    // The same shape as the HF directory's config.json (whose dropout rates are training settings; the release has none).
    expect(await pretrainedGPTConfig(OPENAI)).toEqual({ ...(await pretrainedGPTConfig(HF)), dropout: 0 });
  });

  it("fromPretrained gives the NumPy reference's logits within 1e-4, and the same logits as the HF directory", async () => {
    const model = await fromPretrained(OPENAI);
    expect(gptConfigOfModel(model)).toMatchObject({ vocabSize: 384, contextLength: 64, embeddingDim: 32, numHeads: 4, numLayers: 2, qkvBias: true, tieWeights: true });
    const ours = logitsOf(model, reference.ids);
    const rows = tf.tidy(() => tf.gather(ours, reference.logitRows));
    const numpy = tf.tensor2d(reference.logits);
    expect(maxAbsDiff(rows, numpy)).toBeLessThan(1e-4);
    const hf = await fromPretrained(HF);
    const theirs = logitsOf(hf, reference.ids);
    expect(maxAbsDiff(ours, theirs)).toBe(0); // the same float32 weights, the same model
    tf.dispose([ours, rows, numpy, theirs]);
    model.dispose();
    hf.dispose();
  });

  it("loads from ArrayBuffers as a page would (tensorBundleFromBuffers)", async () => {
    const bundle = tensorBundleFromBuffers(readFileSync(path.join(OPENAI, "model.ckpt.index")), [readFileSync(path.join(OPENAI, "model.ckpt.data-00000-of-00001"))]);
    const model = await loadOpenAIGPT2(bundle, parseOpenAIHParams(JSON.parse(readFileSync(path.join(OPENAI, "hparams.json"), "utf8"))));
    const last = tf.tidy(() => logitsOf(model, reference.ids).slice([reference.ids.length - 1, 0], [1, -1]));
    expect(maxAbsDiff(last, tf.tensor2d([reference.logits.at(-1)!]))).toBeLessThan(1e-4);
    tf.dispose(last);
    model.dispose();
  });

  it("bad input loads nothing: a flipped byte (CRC) or an hparams disagreement is one clear error, no tensors left", async () => {
    const flipped = path.join(tmp, "flipped");
    cpSync(OPENAI, flipped, { recursive: true });
    const data = path.join(flipped, "model.ckpt.data-00000-of-00001");
    const bytes = readFileSync(data);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x40; // inside the last tensor written
    writeFileSync(data, bytes);
    const before = tf.memory().numTensors;
    await expect(fromPretrained(flipped)).rejects.toThrow(/variable "model\/[^"]+" fails its CRC-32C check \(corrupt data file\)/);
    expect(tf.memory().numTensors).toBe(before);

    const wrong = path.join(tmp, "wrong-hparams");
    cpSync(OPENAI, wrong, { recursive: true });
    writeFileSync(path.join(wrong, "hparams.json"), JSON.stringify({ n_vocab: 384, n_ctx: 64, n_embd: 48, n_head: 4, n_layer: 2 }));
    await expect(fromPretrained(wrong)).rejects.toThrow(/variable "model\/wte" has shape \[384, 32\], hparams.json implies \[384, 48\]/);
    expect(tf.memory().numTensors).toBe(before);

    writeFileSync(path.join(wrong, "hparams.json"), JSON.stringify({ n_vocab: 384, n_ctx: 64, n_embd: 32, n_head: 4 }));
    await expect(fromPretrained(wrong)).rejects.toThrow(/hparams\.json: `n_layer` must be a positive integer, received undefined/);
  });
});
