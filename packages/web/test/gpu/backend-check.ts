/**
 * Runs in the page of test/gpu/index.html (served by Vite, driven by test/gpu-backends.test.ts and
 * scripts/measure-backends.mjs): builds one fixed GPT on a chosen tfjs backend and reports its
 * forward logits, a few training steps (loss, host reads per step, tokens/s) and greedy
 * generation (on the loaded weights, before training) with and without the KV cache, so the test can compare webgpu and webgl with cpu.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng } from "@tfgpt/common";
import { adamW, createGPT, Trainer, generateAsync, idsTensor, parseGPTConfig, sparseCrossEntropyFromLogits, type GPTConfigInput } from "@tfgpt/layers";
import { checkIds, crossEntropyGrad, gpuCrossEntropyBackend, headCrossEntropy, rowLogSumExp, useGpuCrossEntropyKernels } from "@tfgpt/layers/internal";
import { initBackend, type BackendChoice, type BackendInfo } from "../../src/backend.js";

/** What `runCheck` is asked to do. */
export interface CheckRequest {
  readonly backend: BackendChoice;
  readonly config: GPTConfigInput;
  /** The weights to load, in `model.getWeights()` order (from a run on another backend); absent: the model's own random ones. */
  readonly weights?: number[][];
  readonly batchSize: number;
  readonly trainSteps: number;
  readonly learningRate: number;
  readonly promptLength: number;
  readonly newTokens: number;
  /** Without `weights`: multiply the random initial weights by this (default 1), so that logits differ by more than float32 noise and greedy picks are stable across backends. */
  readonly initScale?: number;
  /** Time a second cached generation (the first compiles the backend's kernels/shaders). */
  readonly warmGenerate?: boolean;
  /** Skip generation without the cache (it re-runs the window per token: slow on emulated GPUs). */
  readonly skipUncached?: boolean;
  /** `false`: the head's softmax cross-entropy on tfjs ops instead of the custom GPU kernels (default true). */
  readonly gpuKernels?: boolean;
  /** `false`: measure only (training, generation); skip the Trainer and head checks (slow at GPT-2's vocabulary on emulated GPUs). */
  readonly checks?: boolean;
}

/** What `runCheck` reports. */
export interface CheckResult {
  readonly info: BackendInfo;
  readonly weights: number[][];
  /** Logits of the first sequence of the batch, `[T * V]` flattened. */
  readonly logits: number[];
  /** `model.meanLoss` of the batch before training (what the page's validation loss runs). */
  readonly meanLoss: number;
  /** The gradient of the training loss for each trainable weight (`model.trainableWeights` order), before training; empty with `checks: false`. */
  readonly gradients: number[][];
  /** Losses of 3 steps of layers' `Trainer` (clipping active) from the same weights. */
  readonly trainerLosses: number[];
  readonly losses: number[];
  /** Synchronous host reads (`dataSync`, `arraySync`) and asynchronous ones (`data()`) per training step. */
  readonly syncReadsPerStep: number[];
  readonly asyncReadsPerStep: number[];
  /** Training tokens per second over the steps after the first (the first compiles kernels/shaders). */
  readonly trainTokensPerSecond: number;
  readonly cachedIds: number[];
  readonly uncachedIds: number[] | null;
  /** Generated tokens per second with the KV cache (with `warmGenerate`, of the second run: the first compiles kernels). */
  readonly generateTokensPerSecond: number;
  /** What `checkIds` says about an int32 tensor without a recorded id range ("" when it accepts it: on cpu/wasm it reads the ids). */
  readonly unrecordedIds: string;
  /** Largest difference between the head's `"chunked"` path (chunks of 7 rows) and its `"tfjs"` path: loss, dHidden, dTable. */
  readonly chunkedHeadDiff: number;
  /** The backend of the head's custom softmax cross-entropy kernels (`null`: tfjs ops). */
  readonly gpuKernels: string | null;
  /** The head on fixed inputs (`"tfjs"` path): loss, loss with the first label as ignore index, dHidden and dTable, flattened. */
  readonly head: { loss: number; ignoredLoss: number; dHidden: number[]; dTable: number[] };
  /** Tensors left after the head's forward and backward passes (both paths, with and without a gradient tape): 0. */
  readonly headLeaks: number;
  /** `rowLogSumExp` and `crossEntropyGrad` of fixed `[5, 1000]` logits (one row up to 100, one all equal). */
  readonly kernels: { lse: number[]; grad: number[] };
}

/** The same fixed ids on every run (mulberry32 integers modulo `vocab`). */
function ids(count: number, vocab: number, seed: number): Int32Array {
  const next = createRng(seed).uint32;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = next() % vocab;
  return out;
}

/**
 * Whether a synchronous read throws (with its stack) instead of running: on webgpu, tfjs 4.22's
 * `dataSync` returns zeros on SwiftShader and leaves the device unusable, so any sync read must fail loudly.
 */
let forbidSyncReads = false;

/** Host reads so far: synchronous (`dataSync`, `arraySync`) and asynchronous (`data()`), counted at the engine. */
const reads = { sync: 0, async: 0 };
{
  const engine = tf.engine() as unknown as { readSync(id: object): unknown; read(id: object): Promise<unknown> };
  const readSync = engine.readSync;
  const read = engine.read;
  engine.readSync = function (id) {
    reads.sync++;
    if (forbidSyncReads) throw new Error(`synchronous host read (dataSync) on ${tf.getBackend()}: ${new Error().stack ?? ""}`);
    return readSync.call(this, id);
  };
  engine.read = function (id) {
    reads.async++;
    return read.call(this, id);
  };
}

/** Runs `body`, counting the host reads it makes. */
async function countingReads<T>(body: () => Promise<T>): Promise<{ value: T; sync: number; async: number }> {
  const before = { ...reads };
  const value = await body();
  return { value, sync: reads.sync - before.sync, async: reads.async - before.async };
}

export async function runCheck(request: CheckRequest): Promise<CheckResult> {
  const info = await initBackend(request.backend);
  useGpuCrossEntropyKernels(request.gpuKernels ?? true);
  forbidSyncReads = info.name === "webgpu";
  if (info.name !== request.backend && request.backend !== "auto") throw new Error(`asked for ${request.backend}, got ${info.name}: ${info.notes.join("; ")}`);
  const { batchSize: B, trainSteps, promptLength, newTokens } = request;
  const model = createGPT(request.config);
  const optimizer = adamW({ learningRate: request.learningRate, weightDecay: 0.01 });
  try {
    if (request.weights !== undefined) {
      const shapes = model.getWeights().map((w) => w.shape);
      const loaded = request.weights.map((values, i) => tf.tensor(values, shapes[i]));
      model.setWeights(loaded);
      tf.dispose(loaded);
    } else if (request.initScale !== undefined && request.initScale !== 1) {
      const scale = request.initScale;
      const scaled = model.getWeights().map((w) => tf.mul(w, scale));
      model.setWeights(scaled);
      tf.dispose(scaled);
    }
    const weights = await Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
    const { contextLength: T, vocabSize: V } = parseGPTConfig(request.config);
    const tokens = ids(B * (T + 1), V, 1234);
    const xsValues = new Int32Array(B * T);
    const ysValues = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      xsValues.set(tokens.subarray(b * (T + 1), b * (T + 1) + T), b * T);
      ysValues.set(tokens.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
    }
    const xs = idsTensor(xsValues, [B, T]);
    const ys = idsTensor(ysValues, [B, T, 1]);

    // apply, not predict: predict slices the batch into new tensors, which lose the id range
    // recorded by idsTensor, so TokenEmbedding would read the ids back to check them.
    const logitsTensor = tf.tidy(() => tf.slice(model.apply(xs, { training: false }) as tf.Tensor, [0, 0, 0], [1, T, V]));
    const logits = Array.from(await logitsTensor.data());
    logitsTensor.dispose();
    // The validation loss as Trainer.evaluate computes it (no read-back of the ids, fused head + loss).
    const meanLossTensor = model.meanLoss(xs, ys);
    const meanLoss = (await meanLossTensor.data())[0] as number;
    meanLossTensor.dispose();
    // Every weight's gradient of the training loss (TokenEmbedding's scatter-add, the positional
    // embedding, LayerNorm, attention, the fused head), before any step: compared with cpu's.
    let gradients: number[][] = [];
    if (request.checks !== false) {
      const { value, grads } = tf.variableGrads(() => model.trainingLoss(xs, ys));
      gradients = await Promise.all(model.trainableWeights.map(async (w) => Array.from(await (grads[(w.read() as tf.Variable).name] as tf.Tensor).data())));
      tf.dispose([value, ...Object.values(grads)]);
    }

    // The page's and the CLI's step: layers' Trainer (variableGrads, global-norm clipping, AdamW),
    // on a copy of the model; a clip far below the gradient norm makes the norm decide each update.
    // epsilon 1e-3, not 1e-8: with the clipped entries (~1e-4) far below 1e-8's scale, Adam's first
    // steps are lr * sign(g), so an entry near 0 that the GPU sums to the other sign moves by 2 lr
    // and the losses part by more than float32 noise (0.0068 on CI's machine). Against 1e-3 the
    // update is near-linear in g: the backends agree, and a wrong clipping norm (the bug this
    // catches) changes every update's size instead of vanishing in Adam's normalisation.
    const trainerLosses: number[] = [];
    if (request.checks !== false) {
      const copy = createGPT(request.config);
      const initial = model.getWeights();
      copy.setWeights(initial);
      const trainer = new Trainer(copy, { learningRate: request.learningRate, gradClip: 0.05, epsilon: 1e-3 });
      const targets = idsTensor(ysValues, [B, T]);
      try {
        for (let s = 0; s < 3; s++) {
          const loss = trainer.trainStep([{ inputs: xs, targets }]);
          trainerLosses.push((await loss.data())[0] as number);
          loss.dispose();
        }
      } finally {
        targets.dispose();
        trainer.dispose();
        copy.dispose();
      }
    }

    const prompt = Array.from(xsValues.subarray(0, promptLength));
    const options = { maxNewTokens: newTokens, temperature: 0, stop: null, contextLength: T };
    let genStart = performance.now();
    let cachedIds = await generateAsync(model, prompt, { ...options, cache: true });
    if (request.warmGenerate === true) {
      genStart = performance.now();
      cachedIds = await generateAsync(model, prompt, { ...options, cache: true });
    }
    const generateTokensPerSecond = newTokens / Math.max(1e-6, (performance.now() - genStart) / 1000);
    const uncachedIds = request.skipUncached === true ? null : await generateAsync(model, prompt, { ...options, cache: false });

    model.compile({ optimizer, loss: sparseCrossEntropyFromLogits });
    const losses: number[] = [];
    const syncReadsPerStep: number[] = [];
    const asyncReadsPerStep: number[] = [];
    let after = 0;
    let started = 0;
    for (let s = 0; s < trainSteps; s++) {
      if (s === 1) started = performance.now();
      const { value, sync, async } = await countingReads(() => model.trainOnBatch(xs, ys));
      losses.push(Array.isArray(value) ? (value[0] as number) : value);
      syncReadsPerStep.push(sync);
      asyncReadsPerStep.push(async);
      if (s >= 1) after += B * T;
    }
    const trainTokensPerSecond = after / Math.max(1e-6, (performance.now() - started) / 1000);
    xs.dispose();
    ys.dispose();

    // The fused head in chunks of 7 token rows (the GPU backends' path for large [N, V] logits)
    // against the whole-matrix tfjs path, on this backend.
    let chunkedHeadDiff = Number.NaN;
    if (request.checks !== false) {
      chunkedHeadDiff = 0;
      const C = parseGPTConfig(request.config).embeddingDim;
      const n = B * T;
      const labels = idsTensor(ysValues, [n]);
      const h = tf.tensor2d(Float32Array.from(ids(n * C, 1000, 77), (v) => v / 500 - 1), [n, C]);
      const w = tf.tensor2d(Float32Array.from(ids(V * C, 1000, 78), (v) => v / 1000 - 0.5), [V, C]);
      const run = (implementation: "tfjs" | "chunked") => tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => headCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, labels, implementation, undefined, 7))([h, w]);
      const [a, b] = [run("tfjs"), run("chunked")];
      const pairs: Array<[tf.Tensor, tf.Tensor]> = [[a.value, b.value], [a.grads[0] as tf.Tensor, b.grads[0] as tf.Tensor], [a.grads[1] as tf.Tensor, b.grads[1] as tf.Tensor]];
      for (const [x, y] of pairs) {
        const d = tf.max(tf.abs(tf.sub(x, y)));
        chunkedHeadDiff = Math.max(chunkedHeadDiff, (await d.data())[0] as number);
        d.dispose();
      }
      tf.dispose([labels, h, w, a.value, ...a.grads, b.value, ...b.grads]);
    }

    // The head's values on fixed inputs, for comparison with cpu's (on webgpu and webgl: the
    // custom softmax cross-entropy kernels; on cpu: tfjs ops).
    let head: CheckResult["head"] = { loss: Number.NaN, ignoredLoss: Number.NaN, dHidden: [], dTable: [] };
    let headLeaks = 0;
    if (request.checks !== false) {
      const C = parseGPTConfig(request.config).embeddingDim;
      const n = B * T;
      const labels = idsTensor(ysValues, [n]);
      const h = tf.tensor2d(Float32Array.from(ids(n * C, 1000, 79), (v) => v / 500 - 1), [n, C]);
      const w = tf.tensor2d(Float32Array.from(ids(V * C, 1000, 80), (v) => v / 1000 - 0.5), [V, C]);
      const run = (ignoreIndex?: number) => tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => headCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, labels, "tfjs", ignoreIndex))([h, w]);
      // Tensors left behind by a forward + backward of each path, without and with a tape.
      const before = tf.memory().numTensors;
      for (const implementation of ["tfjs", "chunked"] as const) {
        const taped = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => headCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, labels, implementation, undefined, 7))([h, w]);
        tf.dispose([taped.value, ...taped.grads]);
        headCrossEntropy(h, w, labels, implementation, undefined, 7).dispose();
      }
      headLeaks = tf.memory().numTensors - before;
      const plainRun = run();
      const ignoredRun = run(ysValues[0]); // the first label: ignored where it occurs
      head = {
        loss: (await plainRun.value.data())[0] as number,
        ignoredLoss: (await ignoredRun.value.data())[0] as number,
        dHidden: Array.from(await (plainRun.grads[0] as tf.Tensor).data()),
        dTable: Array.from(await (plainRun.grads[1] as tf.Tensor).data()),
      };
      tf.dispose([labels, h, w, plainRun.value, ...plainRun.grads, ignoredRun.value, ...ignoredRun.grads]);
    }
    let kernels: CheckResult["kernels"];
    {
      const rows = 5;
      const cols = 1000;
      const values = Float32Array.from(ids(rows * cols, 2000, 81), (v) => v / 100 - 10);
      for (let c = 0; c < cols; c++) {
        values[cols + c] = (values[cols + c] as number) * 10; // up to 100: exp overflows float32 without the max
        values[2 * cols + c] = 0.5; // all equal: the sum is exactly cols
      }
      const logits = tf.tensor2d(values, [rows, cols]);
      const labels = idsTensor(Int32Array.from([0, 999, 500, 7, 256]), [rows]) as tf.Tensor1D;
      const scale = tf.tensor1d([1, 0.5, 2, -1, 0]);
      const lse = rowLogSumExp(logits);
      const grad = crossEntropyGrad(logits, lse, labels, scale);
      kernels = { lse: Array.from(await lse.data()), grad: Array.from(await grad.data()) };
      tf.dispose([logits, labels, scale, lse, grad]);
    }

    const plain = tf.tensor1d([1, 2], "int32");
    let unrecordedIds = "";
    try {
      checkIds(plain, V);
    } catch (error) {
      unrecordedIds = error instanceof Error ? error.message : String(error);
    } finally {
      plain.dispose();
    }
    return { info, weights, logits, meanLoss, gradients, trainerLosses, losses, syncReadsPerStep, asyncReadsPerStep, trainTokensPerSecond, cachedIds, uncachedIds, generateTokensPerSecond, unrecordedIds, chunkedHeadDiff, gpuKernels: gpuCrossEntropyBackend(), head, headLeaks, kernels };
  } finally {
    useGpuCrossEntropyKernels(true);
    forbidSyncReads = false;
    model.dispose();
    optimizer.dispose();
  }
}

declare global {
  interface Window {
    tfgptRunCheck?: typeof runCheck;
  }
}
window.tfgptRunCheck = runCheck;
document.body.dataset.ready = "true";
