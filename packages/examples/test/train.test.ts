import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../src/io.js";
import type { MetricRecord } from "../src/metrics.js";
import { runSample, SampleConfigSchema } from "../src/sample.js";
import { runTrain, TrainConfigSchema } from "../src/train.js";
import { BACKEND_OPTION, DATA_DIR, runCli, useTestBackend } from "./helpers.js";

const verdict = path.join(DATA_DIR, "the-verdict.txt");
let tmp: string;
let excerpt: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-train-"));
  excerpt = path.join(tmp, "excerpt.txt");
  await writeFile(excerpt, (await readFile(verdict, "utf8")).slice(0, 4000));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A model small enough for a test: byte tokens (vocab 256), width 16, one block, context 16. */
const tiny = () => ({
  text: excerpt,
  encoding: "byte",
  context: 16,
  batchSize: 4,
  lr: 0.01,
  evalEvery: 3,
  model: { embeddingDim: 16, numHeads: 2, numLayers: 1 },
  ...BACKEND_OPTION,
});

async function readMetrics(runDir: string): Promise<MetricRecord[]> {
  const text = await readFile(path.join(runDir, "metrics.jsonl"), "utf8");
  return text.trim().split("\n").map((l) => JSON.parse(l) as MetricRecord);
}

const trainLosses = (m: MetricRecord[]) => m.filter((r) => r.loss !== undefined).map((r) => [r.step, r.loss]);
const valLosses = (m: MetricRecord[]) => m.filter((r) => r.val_loss !== undefined).map((r) => [r.step, r.val_loss]);

describe("tfgpt train: training controls", () => {
  it("--help lists the new flags with the defaults of the Trainer's schema", async () => {
    const { TRAINER_DEFAULTS } = await import("@tfgpt/layers");
    const { TRAIN_DEFAULTS } = await import("../src/train-config.js");
    for (const [cli, layers] of [["lrSchedule", "schedule"], ["warmupSteps", "warmupSteps"], ["weightDecay", "weightDecay"], ["gradClip", "gradClip"], ["gradAccum", "gradAccum"]] as const) {
      expect(TRAIN_DEFAULTS[cli], `TRAIN_DEFAULTS.${cli} vs TRAINER_DEFAULTS.${layers}`).toBe(TRAINER_DEFAULTS[layers]);
    }
    expect(TRAIN_DEFAULTS.lr).toBe(TRAINER_DEFAULTS.learningRate);
    const help = runCli(["train", "--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--layers N", "--heads N", "--width N", "--dropout P", "--lr-schedule S", "--min-lr X", "--lr-decay-steps N", "--eval-iters N"]) expect(help.stdout).toContain(flag);
    expect(help.stdout).toMatch(/--warmup-steps N .*\(default 0\)/);
    expect(help.stdout).toMatch(/--weight-decay X .*\(default 0\.1\)/);
    expect(help.stdout).toMatch(/--grad-clip X .*\(default 1\)/);
    expect(help.stdout).toMatch(/--grad-accum N .*\(default 1\)/);
    expect(help.stdout).toMatch(/--lr-schedule S .*\(default constant\)/);
  });
});

describe("tfgpt train", () => {
  it("N steps in one run equal N/2 + resume + N/2 (same losses, same next batch)", async () => {
    const straightDir = path.join(tmp, "straight");
    const straight = await runTrain(TrainConfigSchema.parse({ ...tiny(), steps: 6, out: straightDir }), memoryIO());
    expect(straight.step).toBe(6);

    const splitDir = path.join(tmp, "split");
    const half = await runTrain(TrainConfigSchema.parse({ ...tiny(), steps: 3, out: splitDir }), memoryIO());
    expect(half.step).toBe(3);
    const io = memoryIO();
    const resumed = await runTrain(TrainConfigSchema.parse({ resume: splitDir, steps: 6, evalEvery: 3, ...BACKEND_OPTION }), io);
    expect(io.err()).toMatch(/resuming .*checkpoint-000003 at step 3/);
    expect(resumed.step).toBe(6);
    expect(resumed.runDir).toBe(splitDir);

    const a = await readMetrics(straightDir);
    const b = await readMetrics(splitDir);
    expect(trainLosses(b)).toHaveLength(6);
    // Exact: weights, Adam state and loader position are restored bit for bit; allow float noise anyway.
    for (const [i, [step, loss]] of trainLosses(a).entries()) {
      const [stepB, lossB] = trainLosses(b)[i] as [number, number];
      expect(stepB).toBe(step);
      expect(lossB).toBeCloseTo(loss as number, 5);
    }
    expect(resumed.loss).toBeCloseTo(straight.loss, 5);
    expect(valLosses(b).map(([s]) => s)).toEqual([0, 3, 6]);
    for (const [i, [, loss]] of valLosses(b).entries()) expect(loss).toBeCloseTo(valLosses(a)[i]?.[1] as number, 5);
    expect(resumed.valLoss).toBeCloseTo(straight.valLoss as number, 5);

    const files = (await readdir(splitDir)).sort();
    expect(files).toEqual(["checkpoint-000006", "latest.json", "loss.svg", "metrics.jsonl"]);
    const state = JSON.parse(await readFile(path.join(splitDir, "checkpoint-000006", "state.json"), "utf8"));
    expect(state.step).toBe(6);
    expect(state.tokenizer).toEqual({ name: "byte" });
    expect(state.dataState).toMatchObject({ shuffle: true, batchSize: 4, seed: 0 });
  });

  it("with --grad-accum 2 --lr-schedule cosine --warmup-steps 5 --grad-clip 1: 10 steps + resume to 20 == 20 steps (same losses, same weights bytes)", async () => {
    const controls = { ...tiny(), gradAccum: 2, lrSchedule: "cosine", warmupSteps: 5, gradClip: 1, evalEvery: 10, evalIters: 2 };
    const straightDir = path.join(tmp, "controls-straight");
    const straight = await runTrain(TrainConfigSchema.parse({ ...controls, steps: 20, out: straightDir }), memoryIO());
    const splitDir = path.join(tmp, "controls-split");
    // The cosine decay ends at step 20 in both (--lr-decay-steps; default: the first run's --steps).
    await runTrain(TrainConfigSchema.parse({ ...controls, steps: 10, lrDecaySteps: 20, out: splitDir }), memoryIO());
    const resumed = await runTrain(TrainConfigSchema.parse({ resume: splitDir, steps: 20, evalEvery: 10, ...BACKEND_OPTION }), memoryIO());
    expect(resumed.step).toBe(20);
    expect(resumed.loss).toBe(straight.loss);
    expect(trainLosses(await readMetrics(splitDir))).toEqual(trainLosses(await readMetrics(straightDir)));
    const weights = (dir: string) => readFile(path.join(dir, "weights.bin"));
    expect((await weights(resumed.checkpoint)).equals(await weights(straight.checkpoint))).toBe(true);
    const state = JSON.parse(await readFile(path.join(resumed.checkpoint, "state.json"), "utf8"));
    expect(state.trainer).toMatchObject({ gradAccum: 2, schedule: "cosine", warmupSteps: 5, gradClip: 1, totalSteps: 20, weightDecay: 0.1 });
    // A changed control on --resume is refused, naming the flag.
    await expect(runTrain(TrainConfigSchema.parse({ resume: splitDir, steps: 30, gradAccum: 4 }), memoryIO())).rejects.toThrow(
      /`--grad-accum` 4 differs from the checkpoint's 2/,
    );
  });

  it("--epochs N trains N passes over the training windows", async () => {
    // 4,000 bytes, 10% held out: 3,600 tokens, 56 windows of 64, 3 batches of 16 per epoch.
    const run = await runTrain(
      TrainConfigSchema.parse({ ...tiny(), context: 64, batchSize: 16, epochs: 2, evalEvery: 100, out: path.join(tmp, "epochs") }),
      memoryIO(),
    );
    expect(run.step).toBe(6);
    const state = JSON.parse(await readFile(path.join(run.checkpoint, "state.json"), "utf8"));
    expect(state.dataState).toMatchObject({ epoch: 2, batchIndex: 0 });
  });

  it("refuses to resume with a changed setting, and to overwrite a run", async () => {
    const dir = path.join(tmp, "split");
    await expect(runTrain(TrainConfigSchema.parse({ resume: dir, steps: 8, context: 32 }), memoryIO())).rejects.toThrow(
      /`--context` 32 differs from the checkpoint's 16/,
    );
    await expect(runTrain(TrainConfigSchema.parse({ resume: dir, steps: 6 }), memoryIO())).rejects.toThrow(
      /the checkpoint is at step 6; `--steps` must be greater/,
    );
    await expect(runTrain(TrainConfigSchema.parse({ ...tiny(), steps: 2, out: dir }), memoryIO())).rejects.toThrow(
      /already holds a run/,
    );
  });

  it("samples reproducibly from the checkpoint with its own tokenizer", async () => {
    const dir = path.join(tmp, "straight");
    const sample = (seed: number, temperature: number) =>
      runSample(
        SampleConfigSchema.parse({ checkpoint: dir, prompt: "I HAD always", maxNewTokens: 12, temperature, topK: 20, seed, ...BACKEND_OPTION }),
        memoryIO(),
      );
    const first = await sample(1, 1);
    expect(await sample(1, 1)).toBe(first);
    expect(first.length).toBeGreaterThan(0);
    const greedy = await sample(1, 0);
    expect(await sample(2, 0)).toBe(greedy); // temperature 0 ignores the seed
  });
});

describe("evaluateLoss", () => {
  it("gives the same validation loss through the fused head (GPTModel) as through the logits", async () => {
    const tf = await import("@tensorflow/tfjs");
    const { createGPT, GPT_PRESETS } = await import("@tfgpt/layers");
    const { GPTDataset } = await import("@tfgpt/datasets");
    const { evaluateLoss } = await import("../src/train.js");
    await useTestBackend();
    const config = { ...GPT_PRESETS.tiny, vocabSize: 101, contextLength: 8, embeddingDim: 16, numLayers: 1 };
    const gpt = createGPT(config);
    // The same graph and weights as a plain tf.LayersModel: evaluateLoss takes the logits path.
    const plain = tf.model({ inputs: gpt.inputs, outputs: gpt.outputs });
    const ids = Int32Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 101);
    const dataset = new GPTDataset(ids, { maxLength: 8, stride: 8 });
    const fused = await evaluateLoss(gpt, dataset, 101);
    const logits = await evaluateLoss(plain, dataset, 101);
    expect(fused).toBeGreaterThan(3); // about ln(101) = 4.6 untrained
    expect(Math.abs(fused - logits)).toBeLessThan(1e-5);
  });
});

describe("tfgpt train --rank R --world-size W", () => {
  it("each rank reads only its share of the windows (disjoint, together all); resume keeps the share; dropout resumes bit-exact", async () => {
    const shareOf = async (rank: number, out: string, extra: Record<string, unknown> = {}) => {
      const io = memoryIO();
      const r = await runTrain(TrainConfigSchema.parse({ ...tiny(), steps: 2, out, rank, worldSize: 2, seed: 3, ...extra }), io);
      const [, mine, all] = /\(rank \d of 2: (\d+) of (\d+) windows\)/.exec(io.err())!.map(Number);
      return { r, mine: mine as number, all: all as number };
    };
    const r0 = await shareOf(0, path.join(tmp, "rank0"), { model: { embeddingDim: 16, numHeads: 2, numLayers: 1, dropout: 0.2 } });
    const r1 = await shareOf(1, path.join(tmp, "rank1"));
    expect(r0.mine + r1.mine).toBe(r0.all);
    expect(Math.abs(r0.mine - r1.mine)).toBeLessThanOrEqual(1);
    const state = JSON.parse(await readFile(path.join(r0.r.checkpoint, "state.json"), "utf8"));
    expect(state.train).toMatchObject({ rank: 0, worldSize: 2 });
    expect(state.dataState).toMatchObject({ rank: 0, worldSize: 2 });
    // The DataLoader's shares: rank r reads positions r, r + 2, ... of one seeded order.
    const { DataLoader, GPTDataset } = await import("@tfgpt/datasets");
    const windows = new GPTDataset(Int32Array.from({ length: 9 * 16 + 1 }, (_, i) => i), { maxLength: 16, stride: 16 });
    const firsts = (rank: number) => [...new DataLoader(windows, { batchSize: 1, shuffle: true, seed: 3, rank, worldSize: 2 })].map((b) => b.inputs[0] as number);
    const whole = [...new DataLoader(windows, { batchSize: 1, shuffle: true, seed: 3 })].map((b) => b.inputs[0] as number);
    expect(firsts(0)).toEqual(whole.filter((_, i) => i % 2 === 0));
    expect(firsts(1)).toEqual(whole.filter((_, i) => i % 2 === 1));
    // Resume (with dropout 0.2 on): continues rank 0's share and equals a straight 3-step rank-0 run.
    const resumed = await runTrain(TrainConfigSchema.parse({ resume: path.join(tmp, "rank0"), steps: 3, ...BACKEND_OPTION }), memoryIO());
    const straight = await runTrain(
      TrainConfigSchema.parse({ ...tiny(), steps: 3, out: path.join(tmp, "rank0-straight"), rank: 0, worldSize: 2, seed: 3, model: { embeddingDim: 16, numHeads: 2, numLayers: 1, dropout: 0.2 } }),
      memoryIO(),
    );
    const a = await readFile(path.join(straight.checkpoint, "weights.bin"));
    const b = await readFile(path.join(resumed.checkpoint, "weights.bin"));
    expect(b.equals(a)).toBe(true);
    // Flag errors: one line, exit 2.
    expect(runCli(["train", "--rank", "2", "--world-size", "2"]).stderr.trim()).toBe("tfgpt train: `--rank` must be in [0, 2) for --world-size 2, received 2");
    expect(runCli(["train", "--world-size", "2"]).stderr.trim()).toBe("tfgpt train: `--world-size` 2 needs `--rank`");
    expect(runCli(["train", "--resume", tmp, "--rank", "0", "--world-size", "2"]).code).toBe(2);
  }, 120_000);
});
