/**
 * Every file writer of `@tfgpt/layers/node` creates missing parent directories: saveModelToDir,
 * savePretrained, saveAdapters, checkpointDirectory(...).save and writeCheckpointFiles.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECKPOINT_FILES, checkpointDirectory, writeCheckpointFiles } from "../src/checkpoint-node.js";
import { createGPT } from "../src/gpt.js";
import type { GPTModel } from "../src/gpt-model.js";
import { applyLoRA } from "../src/lora.js";
import { saveAdapters } from "../src/lora-node.js";
import { saveModelToDir } from "../src/model-files.js";
import { savePretrained } from "../src/pretrained-node.js";
import { Trainer } from "../src/trainer.js";
import "../src/register.js";

const shape = { vocabSize: 61, contextLength: 8, embeddingDim: 16, numHeads: 2, numLayers: 1, seed: 3 };
let tmp: string;
let model: GPTModel;
beforeAll(async () => {
  await tf.setBackend("cpu");
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-writer-dirs-"));
  model = createGPT(shape);
});
afterAll(async () => {
  model.dispose();
  await rm(tmp, { recursive: true, force: true });
});

const sorted = async (dir: string): Promise<string[]> => (await readdir(dir)).sort();

describe("writers into a directory whose parents do not exist", () => {
  it("saveModelToDir", async () => {
    const dir = path.join(tmp, "a", "b", "model");
    await saveModelToDir(model, dir);
    expect(await sorted(dir)).toEqual(["model.json", "weights.bin"]);
  });

  it("savePretrained", async () => {
    const dir = path.join(tmp, "c", "d", "hf");
    await savePretrained(model, dir);
    expect(await sorted(dir)).toEqual(["config.json", "model.safetensors"]);
  });

  it("saveAdapters", async () => {
    const lora = createGPT(shape);
    applyLoRA(lora, { rank: 2 });
    const dir = path.join(tmp, "e", "f", "adapters");
    await saveAdapters(lora, dir);
    expect((await sorted(dir)).length).toBe(2);
    lora.dispose();
  });

  it("checkpointDirectory(...).save and writeCheckpointFiles", async () => {
    const trainer = new Trainer(createGPT(shape), { learningRate: 1e-3 });
    const runDir = path.join(tmp, "g", "h", "run");
    await trainer.save(checkpointDirectory(runDir));
    expect(await sorted(runDir)).toEqual(["checkpoint-000000", "latest.json"]);
    const dir = path.join(tmp, "i", "j", "ckpt");
    await writeCheckpointFiles(dir, await trainer.checkpoint());
    expect(await sorted(dir)).toEqual(Object.values(CHECKPOINT_FILES).sort());
    trainer.dispose();
    trainer.model.dispose();
  });
});
