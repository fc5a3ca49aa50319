import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadCheckpoint,
  resolveCheckpointDir,
  restoreOptimizer,
  saveCheckpoint,
  writeDirAtomic,
  type CheckpointState,
} from "../src/checkpoint.js";
import { useTestBackend } from "./helpers.js";

let tmp: string;
beforeAll(async () => {
  tf.env().set("PROD", true);
  await useTestBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-ckpt-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function state(step: number): CheckpointState {
  return {
    version: 1,
    step,
    train: { lr: 0.01 },
    model: { units: 3 },
    tokenizer: { name: "byte" },
    loader: { epoch: 0, batchIndex: step },
    data: { tokens: 100, hash: "abcd1234" },
  };
}

function makeModel(seed: number): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation: "tanh", kernelInitializer: tf.initializers.glorotNormal({ seed }) }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }),
    ],
  });
  return model;
}

const xs = tf.tensor2d(Array.from({ length: 32 }, (_, i) => Math.sin(i)), [8, 4]);
const ys = tf.tensor2d(Array.from({ length: 24 }, (_, i) => Math.cos(i)), [8, 3]);

async function trainSteps(model: tf.LayersModel, steps: number): Promise<number[]> {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(Number(await model.trainOnBatch(xs, ys)));
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

describe("saveCheckpoint / loadCheckpoint / restoreOptimizer", () => {
  it("resumes Adam exactly: 6 steps == 3 steps + save + load + 3 steps", async () => {
    const straight = makeModel(1);
    straight.compile({ optimizer: tf.train.adam(0.05), loss: "meanSquaredError" });
    const expected = await trainSteps(straight, 6);

    const first = makeModel(1);
    const firstOpt = tf.train.adam(0.05);
    first.compile({ optimizer: firstOpt, loss: "meanSquaredError" });
    const part1 = await trainSteps(first, 3);
    const runDir = path.join(tmp, "run-adam");
    const dir = await saveCheckpoint(runDir, { model: first, optimizer: firstOpt, state: state(3) });
    expect(path.basename(dir)).toBe("checkpoint-000003");

    const loaded = await loadCheckpoint(runDir);
    expect(loaded.state.step).toBe(3);
    const resumedOpt = tf.train.adam(0.05);
    loaded.model.compile({ optimizer: resumedOpt, loss: "meanSquaredError" });
    await restoreOptimizer(loaded.dir, resumedOpt);
    const part2 = await trainSteps(loaded.model, 3);

    // Bit-for-bit: the slots, the iteration count and Adam's running beta powers are restored.
    expect([...part1, ...part2]).toEqual(expected);
    const a = straight.getWeights().map((w) => Array.from(w.dataSync()));
    const b = loaded.model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
  });

  it("keeps only the latest checkpoint and points latest.json at it", async () => {
    const model = makeModel(2);
    const optimizer = tf.train.adam(0.01);
    model.compile({ optimizer, loss: "meanSquaredError" });
    const runDir = path.join(tmp, "run-keep");
    await trainSteps(model, 1);
    await saveCheckpoint(runDir, { model, optimizer, state: state(1) });
    await trainSteps(model, 1);
    await saveCheckpoint(runDir, { model, optimizer, state: state(2) });
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
  });

  it("names the problem of a missing, incomplete or corrupt checkpoint", async () => {
    await expect(loadCheckpoint(path.join(tmp, "nope"))).rejects.toThrow(/checkpoint .*nope does not exist/);
    const empty = path.join(tmp, "empty-dir");
    await writeDirAtomic(empty, async () => {});
    await expect(loadCheckpoint(empty)).rejects.toThrow(/is not a checkpoint: it has neither state\.json nor latest\.json/);

    const model = makeModel(3);
    const optimizer = tf.train.adam(0.01);
    model.compile({ optimizer, loss: "meanSquaredError" });
    const runDir = path.join(tmp, "run-corrupt");
    const dir = await saveCheckpoint(runDir, { model, optimizer, state: state(0) });

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
