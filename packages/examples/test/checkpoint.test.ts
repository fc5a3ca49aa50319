import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { createGPT, GPT_PRESETS, GPTModel, idsTensor, Trainer, type TrainBatch } from "@tfgpt/layers";
import { checkpointDirectory } from "@tfgpt/layers/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../src/io.js";
import { loadCheckpoint, loaderStateOf, readOptimizerWeights, resolveCheckpointDir, writeDirAtomic } from "../src/checkpoint.js";
import { runTrain, TrainConfigSchema } from "../src/train.js";
import { BACKEND_OPTION, useTestBackend } from "./helpers.js";

let tmp: string;
beforeAll(async () => {
  tf.env().set("PROD", true);
  await useTestBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-ckpt-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** What the CLI keeps beside the Trainer's state (version 2 state.json). */
function extra() {
  return { train: { lr: 0.01 }, model: { ...shape }, tokenizer: { name: "byte" }, data: { tokens: 100, hash: "abcd1234" } };
}

const shape = { ...GPT_PRESETS.tiny, vocabSize: 31, contextLength: 8, embeddingDim: 8, numHeads: 2, numLayers: 1 };

function batch(b: number): TrainBatch {
  const xs = Int32Array.from({ length: 16 }, (_, i) => (i * 5 + b * 3) % 31);
  const ys = Int32Array.from({ length: 16 }, (_, i) => (i * 5 + b * 3 + 1) % 31);
  return { inputs: idsTensor(xs, [2, 8]), targets: idsTensor(ys, [2, 8]) };
}

async function steps(trainer: Trainer, from: number, count: number): Promise<number[]> {
  const losses: number[] = [];
  for (let i = from; i < from + count; i++) {
    const b = batch(i);
    const loss = trainer.trainStep([b]);
    losses.push((await loss.data())[0] as number);
    tf.dispose([loss, b.inputs, b.targets]);
  }
  return losses;
}

describe("writeDirAtomic", () => {
  it("creates the target only when the writer succeeds, and leaves no temp dir on failure", async () => {
    const target = path.join(tmp, "atomic-ok");
    await writeDirAtomic(target, async (dir) => writeFile(path.join(dir, "a.txt"), "a"));
    expect(await readFile(path.join(target, "a.txt"), "utf8")).toBe("a");

    const failed = path.join(tmp, "atomic-fail");
    await expect(
      writeDirAtomic(failed, async (dir) => {
        await writeFile(path.join(dir, "half.txt"), "half");
        throw new Error("disk full");
      }),
    ).rejects.toThrow(/disk full/);
    const left = (await readdir(tmp)).filter((n) => n.includes("atomic-fail"));
    expect(left).toEqual([]);
  });
});

describe("checkpoints of the Trainer, read by the CLI", () => {
  it("resume exactly: 6 steps == 3 steps + save + loadCheckpoint + readOptimizerWeights + 3 steps", async () => {
    const options = { learningRate: 0.05, schedule: "cosine", totalSteps: 6, warmupSteps: 1 } as const;
    const straight = new Trainer(createGPT({ ...shape, seed: 1 }), options);
    const expected = await steps(straight, 0, 6);

    const first = new Trainer(createGPT({ ...shape, seed: 1 }), options);
    const part1 = await steps(first, 0, 3);
    const runDir = path.join(tmp, "run-adamw");
    const io = checkpointDirectory(runDir);
    await first.save(io, { epoch: 0, batchIndex: 3 }, extra());
    expect(path.basename(io.lastSaved as string)).toBe("checkpoint-000003");

    const loaded = await loadCheckpoint(runDir);
    expect(loaded.state.step).toBe(3);
    expect(loaded.state.version).toBe(2);
    expect(loaderStateOf(loaded.state)).toEqual({ epoch: 0, batchIndex: 3 });
    const resumed = new Trainer(loaded.model as GPTModel, options);
    const saved = await readOptimizerWeights(loaded.dir);
    await resumed.restoreOptimizer(loaded.state.step, saved);
    tf.dispose(saved.map((w) => w.tensor));
    const part2 = await steps(resumed, 3, 3);

    expect([...part1, ...part2]).toEqual(expected);
    const a = straight.model.getWeights().map((w) => Array.from(w.dataSync()));
    const b = resumed.model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
    for (const t of [straight, first, resumed]) (t.dispose(), t.model.dispose());
  });

  it("keeps only the latest checkpoint and points latest.json at it", async () => {
    const trainer = new Trainer(createGPT({ ...shape, seed: 2 }));
    const runDir = path.join(tmp, "run-keep");
    const io = checkpointDirectory(runDir);
    await steps(trainer, 0, 1);
    await trainer.save(io, null, extra());
    await steps(trainer, 1, 1);
    await trainer.save(io, null, extra());
    const entries = (await readdir(runDir)).sort();
    expect(entries).toEqual(["checkpoint-000002", "latest.json"]);
    expect(await resolveCheckpointDir(runDir)).toBe(path.join(runDir, "checkpoint-000002"));
    expect((await readdir(path.join(runDir, "checkpoint-000002"))).sort()).toEqual([
      "model.json",
      "optimizer.bin",
      "optimizer.json",
      "state.json",
      "weights.bin",
    ]);
    trainer.dispose();
    trainer.model.dispose();
  });

  it("names the problem of a missing, incomplete or corrupt checkpoint", async () => {
    await expect(loadCheckpoint(path.join(tmp, "nope"))).rejects.toThrow(/checkpoint .*nope does not exist/);
    const empty = path.join(tmp, "empty-dir");
    await writeDirAtomic(empty, async () => {});
    await expect(loadCheckpoint(empty)).rejects.toThrow(/is not a checkpoint: it has neither state\.json nor latest\.json/);

    const trainer = new Trainer(createGPT({ ...shape, seed: 3 }));
    const runDir = path.join(tmp, "run-corrupt");
    const io = checkpointDirectory(runDir);
    await trainer.save(io, null, extra());
    const dir = io.lastSaved as string;
    trainer.dispose();
    trainer.model.dispose();

    const weights = await readFile(path.join(dir, "weights.bin"));
    await writeFile(path.join(dir, "weights.bin"), weights.subarray(0, 10));
    await expect(loadCheckpoint(runDir)).rejects.toThrow(/is corrupt: weights\.bin has 10 bytes, its manifest describes \d+/);
    await writeFile(path.join(dir, "weights.bin"), weights);

    await writeFile(path.join(dir, "model.json"), "{not json");
    await expect(loadCheckpoint(runDir)).rejects.toThrow(/is corrupt: model\.json is not valid JSON/);

    await writeFile(path.join(runDir, "latest.json"), "garbage");
    await expect(loadCheckpoint(runDir)).rejects.toThrow(/is corrupt: latest\.json/);
  });
});

describe("a version-1 checkpoint (tfjs Adam, before the Trainer: test/fixtures/checkpoint-v1)", () => {
  const fixture = path.resolve(import.meta.dirname, "fixtures/checkpoint-v1");

  it("loads: weights, Adam's moments into AdamW, the loader position", async () => {
    const loaded = await loadCheckpoint(path.join(fixture, "run"));
    expect(loaded.state.version).toBe(1);
    expect(loaded.state.step).toBe(3);
    expect(loaderStateOf(loaded.state)).toMatchObject({ epoch: 0, batchIndex: 3 });
    expect(loaded.model).toBeInstanceOf(GPTModel);
    const trainer = new Trainer(loaded.model as GPTModel, { learningRate: 0.01, beta2: 0.999, weightDecay: 0, gradClip: 0 });
    const saved = await readOptimizerWeights(loaded.dir);
    expect(saved.map((w) => w.name)).toContain("__accBeta1");
    await trainer.restoreOptimizer(3, saved);
    tf.dispose(saved.map((w) => w.tensor));
    const moments = await trainer.optimizer.getWeights();
    expect(moments.length).toBe(1 + 2 * loaded.model.trainableWeights.length);
    trainer.dispose();
    loaded.model.dispose();
  });

  it("resumes with tfgpt train --resume, and the new checkpoint is version 2", async () => {
    const copy = path.join(tmp, "v1");
    await cp(fixture, copy, { recursive: true });
    const stateFile = path.join(copy, "run", "checkpoint-000003", "state.json");
    const state = JSON.parse(await readFile(stateFile, "utf8"));
    state.train.text = path.join(copy, "text.txt");
    await writeFile(stateFile, JSON.stringify(state));
    const io = memoryIO();
    const run = await runTrain(TrainConfigSchema.parse({ resume: path.join(copy, "run"), steps: 5, evalEvery: 5, ...BACKEND_OPTION }), io);
    expect(io.err()).toMatch(/resuming .*checkpoint-000003 at step 3/);
    expect(run.step).toBe(5);
    expect(Number.isFinite(run.loss)).toBe(true);
    const next = JSON.parse(await readFile(path.join(run.checkpoint, "state.json"), "utf8"));
    expect(next.version).toBe(2);
    expect(next.dataState).toMatchObject({ epoch: 0, batchIndex: 5 });
    expect(next.trainer).toMatchObject({ learningRate: 0.01, weightDecay: 0, gradClip: 0, beta2: 0.999 });
  });
});
