/**
 * The Trainer: nanoGPT's schedule values, global-norm clipping, gradient accumulation equal to
 * one large batch, a checkpoint round trip through `checkpointDirectory` that resumes bit for
 * bit (cosine + warmup + accumulation + clipping on), no host reads in a step, and seeded models.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { checkpointDirectory } from "../src/checkpoint-node.js";
import { memoryCheckpoint } from "../src/checkpoint-memory.js";
import { classificationLoss, createClassifier } from "../src/classifier.js";
import { createGPT, GPT_PRESETS } from "../src/gpt.js";
import type { GPTModel } from "../src/gpt-model.js";
import { LayerConfigError } from "../src/errors.js";
import { idsTensor } from "../src/id-range.js";
import { learningRateAt, Trainer, TrainerOptionsSchema, type TrainBatch } from "../src/trainer.js";
import "../src/register.js";

const shape = { ...GPT_PRESETS.tiny, vocabSize: 61, contextLength: 8, embeddingDim: 16, numHeads: 2, numLayers: 1 };

/** Batch `b` of `rows` x 8 ids (deterministic), as int32 tensors. */
function batch(b: number, rows = 4, offset = 0): TrainBatch {
  const n = rows * 8;
  const xs = Int32Array.from({ length: n }, (_, i) => ((i + offset * 8) * 7 + b * 13) % 61);
  const ys = Int32Array.from({ length: n }, (_, i) => ((i + offset * 8) * 7 + b * 13 + 1) % 61);
  return { inputs: idsTensor(xs, [rows, 8]), targets: idsTensor(ys, [rows, 8]) }; // ranges recorded, as a DataLoader's
}

async function weightsOf(trainer: Trainer): Promise<Float32Array[]> {
  return Promise.all(trainer.model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

let tmp: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-trainer-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("learningRateAt", () => {
  const o = TrainerOptionsSchema.parse({ learningRate: 1, minLearningRate: 0.1, warmupSteps: 5, schedule: "cosine", totalSteps: 20 });
  it("warms up linearly, decays on a half cosine to minLearningRate, then stays there (nanoGPT's get_lr)", () => {
    expect(learningRateAt(0, o)).toBeCloseTo(1 / 6, 12);
    expect(learningRateAt(4, o)).toBeCloseTo(5 / 6, 12);
    expect(learningRateAt(5, o)).toBeCloseTo(1, 12);
    expect(learningRateAt(12, o)).toBeCloseTo(0.1 + 0.5 * (1 + Math.cos((Math.PI * 7) / 15)) * 0.9, 12);
    expect(learningRateAt(20, o)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(100, o)).toBeCloseTo(0.1, 12);
  });
  it("constant stays at learningRate after warmup; minLearningRate defaults to learningRate / 10", () => {
    const c = TrainerOptionsSchema.parse({ learningRate: 0.5, warmupSteps: 1 });
    expect(learningRateAt(0, c)).toBe(0.25);
    expect(learningRateAt(1000, c)).toBe(0.5);
    expect(learningRateAt(10, TrainerOptionsSchema.parse({ learningRate: 0.5, schedule: "cosine", totalSteps: 10 }))).toBeCloseTo(0.05, 12);
  });
  it("refuses cosine without totalSteps, and bad values, naming the option", () => {
    const model = createGPT({ ...shape, seed: 0 });
    expect(() => new Trainer(model, { schedule: "cosine" })).toThrow(/`totalSteps` is required/);
    expect(() => new Trainer(model, { gradAccum: 0 })).toThrow(LayerConfigError);
    expect(() => new Trainer(model, { learningRate: 0.1, minLearningRate: 0.2 })).toThrow(/`minLearningRate` must be at most/);
    model.dispose();
  });
});

describe("Trainer", () => {
  it("clips by the global norm (and leaves smaller gradients alone)", async () => {
    const model = createGPT({ ...shape, seed: 0 });
    const trainer = new Trainer(model, { gradClip: 1 });
    const big = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]]) }; // norm 5
    const clipped = trainer.clipGradients(big);
    expect(Array.from(await (clipped["a"] as tf.Tensor).data())[0]).toBeCloseTo(0.6, 5);
    expect(Array.from(await (clipped["b"] as tf.Tensor).data())[1]).toBeCloseTo(0.8, 5);
    const small = { a: tf.tensor1d([0.3, 0.4]) };
    const same = trainer.clipGradients(small);
    expect(Array.from(await (same["a"] as tf.Tensor).data())).toEqual(Array.from(await small.a.data()));
    tf.dispose([big, clipped, small, same]);
    trainer.dispose();
    model.dispose();
  });

  it("accumulating 2 micro-batches of 4 equals one step on the batch of 8", async () => {
    const one = new Trainer(createGPT({ ...shape, seed: 3 }), { learningRate: 1e-2, gradClip: 0.5 });
    const two = new Trainer(createGPT({ ...shape, seed: 3 }), { learningRate: 1e-2, gradClip: 0.5, gradAccum: 2 });
    expect(await weightsOf(one)).toEqual(await weightsOf(two)); // the seed: same weights
    for (let s = 0; s < 3; s++) {
      const whole = batch(s, 8);
      const halves = [batch(s, 4, 0), batch(s, 4, 4)];
      const l1 = one.trainStep([whole]);
      const l2 = two.trainStep(halves);
      expect((await l2.data())[0]).toBeCloseTo((await l1.data())[0] as number, 5);
      tf.dispose([l1, l2]);
      for (const x of [whole, ...halves]) tf.dispose([x.inputs, x.targets]);
    }
    const [a, b] = [await weightsOf(one), await weightsOf(two)];
    for (let i = 0; i < a.length; i++) {
      const diff = Math.max(...Array.from(a[i] as Float32Array, (x, j) => Math.abs(x - (b[i] as Float32Array)[j]!)));
      expect(diff).toBeLessThan(2e-5);
    }
    for (const t of [one, two]) (t.dispose(), t.model.dispose());
  });

  it("weight decay applies to matrices only (nanoGPT's groups): with zero gradients a bias keeps its value, a kernel shrinks", async () => {
    const trainer = new Trainer(createGPT({ ...shape, seed: 1 }), { weightDecay: 0.5, learningRate: 0.1 });
    expect(trainer.optimizer.decay).toBe("matrices");
    const bias = tf.variable(tf.tensor1d([1, 2]), true, "trainer_test/bias");
    const kernel = tf.variable(tf.tensor2d([[1, 2]]), true, "trainer_test/kernel");
    trainer.optimizer.learningRate = 0.1;
    trainer.optimizer.applyGradients({ "trainer_test/bias": tf.zeros([2]), "trainer_test/kernel": tf.zeros([1, 2]) });
    expect(Array.from(await bias.data())).toEqual([1, 2]);
    const k = Array.from(await kernel.data());
    expect(k[0]).toBeCloseTo(0.95, 6);
    expect(k[1]).toBeCloseTo(1.9, 6);
    tf.dispose([bias, kernel]);
    trainer.dispose();
    trainer.model.dispose();
  });

  it("stopped at step 3, saved through checkpointDirectory and restored, ends bit-exact with a straight 6-step run", async () => {
    const options = { learningRate: 1e-2, schedule: "cosine", warmupSteps: 2, totalSteps: 6, gradClip: 1, gradAccum: 2 } as const;
    let i = 0;
    const next = (): TrainBatch => batch(i++);
    const straight = new Trainer(createGPT({ ...shape, seed: 7 }), options);
    await straight.fit(6, next);
    const expected = await weightsOf(straight);
    for (const t of [straight]) (t.dispose(), t.model.dispose());

    i = 0;
    const first = new Trainer(createGPT({ ...shape, seed: 7 }), options);
    await first.fit(3, next);
    const io = checkpointDirectory(path.join(tmp, "run"));
    await first.save(io, { position: i }, { note: "kept" });
    first.dispose();
    first.model.dispose();
    expect((await readdir(path.join(tmp, "run"))).sort()).toEqual(["checkpoint-000003", "latest.json"]);

    const { trainer, dataState, extra } = await Trainer.fromCheckpoint(await io.load());
    expect(trainer.step).toBe(3);
    expect(dataState).toEqual({ position: 6 });
    expect(extra).toEqual({ note: "kept" });
    expect(trainer.options).toMatchObject(options);
    i = (dataState as { position: number }).position;
    await trainer.fit(3, next);
    expect(await weightsOf(trainer)).toEqual(expected);
    trainer.dispose();
    trainer.model.dispose();
  });

  it("memoryCheckpoint (browser-safe): a copy that later steps do not change; restores bit-exact; toBlobs gives the directory's files", async () => {
    const options = { learningRate: 1e-2, gradClip: 1 } as const;
    const a = new Trainer(createGPT({ ...shape, seed: 9 }), options);
    let i = 0;
    const next = (): TrainBatch => batch(i++);
    await a.fit(2, next);
    const io = memoryCheckpoint();
    await a.save(io, { position: i });
    await a.fit(2, next);
    const expected = await weightsOf(a);
    const { trainer: b, dataState } = await Trainer.fromCheckpoint(await io.load());
    i = (dataState as { position: number }).position;
    await b.fit(2, next);
    expect(await weightsOf(b)).toEqual(expected);
    expect(Object.keys(io.toBlobs()).sort()).toEqual(["model.json", "optimizer.bin", "optimizer.json", "state.json", "weights.bin"]);
    expect(JSON.parse(await io.toBlobs()["state.json"]!.text())).toMatchObject({ version: 2, step: 2, dataState: { position: 2 } });
    for (const t of [a, b]) (t.dispose(), t.model.dispose());
  });

  it("dropoutSeed: with dropout on, a run saved at step 2 and restored ends bit-exact with a straight 4-step run; another seed differs", async () => {
    const withDropout = { ...shape, dropout: 0.3 };
    const options = { learningRate: 1e-2, gradAccum: 2, dropoutSeed: 11 } as const;
    let i = 0;
    const next = (): TrainBatch => batch(i++);
    const run = async (opts: typeof options | { learningRate: number; gradAccum: 2; dropoutSeed: number }): Promise<Float32Array[]> => {
      i = 0;
      const t = new Trainer(createGPT({ ...withDropout, seed: 3 }), opts);
      await t.fit(4, next);
      const w = await weightsOf(t);
      t.dispose();
      t.model.dispose();
      return w;
    };
    const expected = await run(options);
    expect(await run(options)).toEqual(expected); // the same seed: the same masks
    expect(await run({ ...options, dropoutSeed: 12 })).not.toEqual(expected);

    i = 0;
    const first = new Trainer(createGPT({ ...withDropout, seed: 3 }), options);
    await first.fit(2, next);
    const io = memoryCheckpoint();
    await first.save(io, { position: i });
    // The embedding dropout (a tfjs Dropout layer) got seeds for the steps only: the saved model records none.
    expect(JSON.stringify((await io.load()).model.modelTopology)).not.toMatch(/"seed":\s*\d/);
    for (const t of [first]) (t.dispose(), t.model.dispose());
    const { trainer, dataState } = await Trainer.fromCheckpoint(await io.load());
    expect(trainer.options.dropoutSeed).toBe(11);
    i = (dataState as { position: number }).position;
    await trainer.fit(2, next);
    expect(await weightsOf(trainer)).toEqual(expected);
    trainer.dispose();
    trainer.model.dispose();
  });

  it("a loss function trains any model (a classifier); restored from a checkpoint, its moments follow the weights by path", async () => {
    expect(() => new Trainer(tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] }))).toThrow(/is not a GPTModel; pass a `loss` function/);
    const loss = (model: tf.LayersModel, b: TrainBatch, training: boolean): tf.Scalar => classificationLoss(b.targets, model.apply(b.inputs, { training }) as tf.Tensor);
    const labelled = (k: number): TrainBatch => {
      const b = batch(k);
      tf.dispose(b.targets);
      return { inputs: b.inputs, targets: tf.tensor1d([k % 2, 1, 0, k % 3 === 0 ? 1 : 0], "int32") };
    };
    const build = (): tf.LayersModel => createClassifier(createGPT({ ...shape, dropout: 0.2, seed: 4 }), { numClasses: 2, trainableBlocks: "all", seed: 1 });
    const options = { learningRate: 1e-2, dropoutSeed: 5 } as const;
    let i = 0;
    const next = (): TrainBatch => labelled(i++);
    const straight = new Trainer(build(), options, loss);
    await straight.fit(4, next);
    const expected = await weightsOf(straight);
    const evalLoss = await straight.evaluate([labelled(0)], 1);
    expect(Number.isFinite(evalLoss)).toBe(true);
    (straight.dispose(), straight.model.dispose());

    i = 0;
    const first = new Trainer(build(), options, loss);
    await first.fit(2, next);
    const io = memoryCheckpoint();
    await first.save(io, { position: i });
    (first.dispose(), first.model.dispose());
    const { trainer } = await Trainer.fromCheckpoint(await io.load(), {}, loss);
    // The moments listed in another order than the model's weights (as a functional model
    // loaded again may list them): matched by path, not position.
    const saved = (await io.load()).optimizer;
    const named = tf.io.decodeWeights(saved.weightData, saved.weightSpecs);
    const entries = Object.entries(named).map(([name, tensor]) => ({ name, tensor }));
    const moments = entries.filter((w) => /\/[mv]$/.test(w.name));
    await trainer.restoreOptimizer(2, [...entries.filter((w) => !moments.includes(w)), ...moments.reverse()]);
    tf.dispose(Object.values(named));
    await trainer.fit(2, next);
    expect(await weightsOf(trainer)).toEqual(expected);
    (trainer.dispose(), trainer.model.dispose());
  });

  it("reads nothing back to the host in a step", async () => {
    const trainer = new Trainer(createGPT({ ...shape, seed: 2 }), { gradAccum: 2, gradClip: 1 });
    (trainer.model as GPTModel).headImplementation = "tfjs";
    const b = [batch(0), batch(1)];
    tf.dispose(trainer.trainStep(b)); // warm-up: moments created
    const proto = tf.Tensor.prototype;
    const spies = (["dataSync", "data", "arraySync", "array", "bufferSync", "buffer"] as const).map((m) => vi.spyOn(proto, m));
    for (let s = 0; s < 3; s++) tf.dispose(trainer.trainStep(b));
    expect(spies.reduce((n, spy) => n + spy.mock.calls.length, 0)).toBe(0);
    vi.restoreAllMocks();
    for (const x of b) tf.dispose([x.inputs, x.targets]);
    trainer.dispose();
    trainer.model.dispose();
  });
});

describe("GPTConfig.seed", () => {
  it("the same seed gives the same weights, another seed others, without Math.random", async () => {
    const spy = vi.spyOn(Math, "random");
    const a = createGPT({ ...shape, seed: 5 });
    const b = createGPT({ ...shape, seed: 5 });
    const c = createGPT({ ...shape, seed: 6 });
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    const data = (m: tf.LayersModel) => Promise.all(m.getWeights().map((w) => w.data()));
    const [wa, wb, wc] = [await data(a), await data(b), await data(c)];
    expect(wa).toEqual(wb);
    expect(wa[0]).not.toEqual(wc[0]);
    // q, k and v of one block come from different draws
    const qkv = (a.weights.find((w) => w.name.includes("c_attn/kernel")) as tf.LayerVariable).read();
    const [q, k] = tf.split(qkv, 3, 1);
    expect(await q!.data()).not.toEqual(await k!.data());
    tf.dispose([q, k]);
    for (const m of [a, b, c]) m.dispose();
  });
});
