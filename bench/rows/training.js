// Row 4: training tokens/s of the tiny GPT, stock tfjs vs createGPT, and the share of the
// backend's matmul rate; mode "profile" sums tf.profile kernel times of one step by kernel name.
// `preset: "gpt2-small"` (ours only) trains the 124M model at `context` x `batchSize` instead
// (on tensorflow: wasm cannot hold its training state), and reports the process's peak RSS.
// argv[2] JSON: {mode:"train", impl:"stock"|"ours", backend, steps, warmup, matmulReps, preset?, context?, batchSize?}
//               {mode:"profile", backend, preset?, context?, batchSize?}
import * as tf from "@tensorflow/tfjs";
import { childArgs, sendResult } from "../lib/child.js";
import { mulberry32 } from "../lib/rng.js";
import { errorText, importOurs, measurement, now } from "../lib/stats.js";
import { matmulGflops, setupBackend } from "../lib/tf-backend.js";

/** The `tiny` preset (issue 3): what both models and the PyTorch reference are built with. */
export const TINY = { vocabSize: 50257, contextLength: 64, embedDim: 64, nLayers: 2, nHeads: 2, batchSize: 8 };

/**
 * Training FLOPs per token: 6 x (matmul parameters, head included) + attention's
 * QK^T and AV (forward 4*T*C per layer, x3 for backward): 6N + 12*L*T*C.
 */
export function flopsPerToken({ vocabSize: V, contextLength: T, embedDim: C, nLayers: L }) {
  const matmulParams = L * 12 * C * C + V * C;
  return 6 * matmulParams + 12 * L * T * C;
}

/** The 124M model (GPT-2 small, 12 layers of width 768, 12 heads), trained at `context` x `batchSize`. */
function gpt2Small(context, batchSize) {
  return { vocabSize: 50257, contextLength: context, embedDim: 768, nLayers: 12, nHeads: 12, batchSize };
}

function batch(seed, vocabSize = TINY.vocabSize, config = TINY) {
  const rand = mulberry32(seed);
  const n = config.batchSize * config.contextLength;
  const ids = Int32Array.from({ length: n + 1 }, () => Math.floor(rand() * vocabSize));
  const shape = [config.batchSize, config.contextLength];
  return { xs: tf.tensor2d(ids.subarray(0, n), shape, "int32"), ys: tf.tensor2d(ids.subarray(1, n + 1), shape, "int32") };
}

const reshaped = new WeakMap();
function labels3d(ys) {
  let y = reshaped.get(ys);
  if (y === undefined) {
    y = tf.reshape(ys, [...ys.shape, 1]);
    reshaped.set(ys, y);
  }
  return y;
}

async function oursModel(preset = "tiny") {
  const layers = await importOurs("@tfgpt/layers");
  const model = layers.createGPT(layers.GPT_PRESETS?.[preset] ?? preset);
  const optimizer = typeof layers.adamW === "function" ? layers.adamW({ learningRate: 3e-4, weightDecay: 0.1 }) : tf.train.adam(3e-4);
  model.compile({ optimizer, loss: layers.sparseCrossEntropyFromLogits });
  const params = model.countParams();
  return {
    params,
    optimizer: typeof layers.adamW === "function" ? "AdamW (@tfgpt/layers)" : "tf.train.adam",
    model,
    // Keras checks targets against the [B, T, V] output's rank: labels go in as [B, T, 1].
    step: async (xs, ys) => {
      const loss = await model.trainOnBatch(xs, labels3d(ys));
      return Array.isArray(loss) ? loss[0] : loss;
    },
  };
}

async function stockModel(config) {
  const { createStockGPT } = await import("../lib/stock-gpt.js");
  const m = createStockGPT(config);
  return { params: m.params, optimizer: "tf.train.adam", step: async (xs, ys) => m.step(xs, ys) };
}

async function train({ impl, backend, steps, warmup, matmulReps, matmulSize = 1024, vocabSize, budgetS, preset = "tiny", context = 256, batchSize = 4 }) {
  // `vocabSize` overrides the preset only for smoke tests of the harness itself.
  const base = preset === "gpt2-small" ? gpt2Small(context, batchSize) : TINY;
  const config = vocabSize === undefined ? base : { ...base, vocabSize };
  const be = await setupBackend(backend);
  const gflops = measurement(matmulGflops(matmulSize, matmulSize, matmulSize, matmulReps), "GFLOP/s", { size: matmulSize });
  const out = { impl, backend: be, config, flopsPerToken: flopsPerToken(config), measurements: { matmul: gflops } };
  try {
    const m = impl === "ours" ? await oursModel(preset) : await stockModel(config);
    out.params = m.params;
    out.optimizer = m.optimizer;
    const { xs, ys } = batch(11, config.vocabSize, config);
    const losses = [];
    const ms = [];
    // A time budget (for tfjs's slow cpu backend): stop after the first timed step once it is spent.
    const start = now();
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = now();
      losses.push(await m.step(xs, ys));
      if (i >= warmup) ms.push(now() - t0);
      if (budgetS !== undefined && ms.length > 0 && (now() - start) / 1000 > budgetS) break;
    }
    out.stepsTimed = ms.length;
    const tokens = config.batchSize * config.contextLength;
    const tps = measurement(ms.map((t) => tokens / (t / 1000)), "tokens/s");
    out.losses = losses;
    out.measurements.tokensPerSec = tps;
    out.measurements.shareOfMatmul = (tps.median * out.flopsPerToken) / 1e9 / gflops.median;
    out.numTensors = tf.memory().numTensors;
    out.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  } catch (err) {
    out.measurements.tokensPerSec = { error: `fails: ${errorText(err)}` };
  }
  return out;
}

async function profile({ backend, preset = "tiny", context = 256, batchSize = 4 }) {
  const be = await setupBackend(backend);
  const config = preset === "gpt2-small" ? gpt2Small(context, batchSize) : TINY;
  const m = await oursModel(preset);
  const { xs, ys } = batch(11, config.vocabSize, config);
  for (let i = 0; i < 2; i++) await m.step(xs, ys);
  // The head kernel computes outside tfjs (no tf.profile entry): its own clock is read instead.
  const internal = await importOurs("@tfgpt/layers/internal");
  const kernel = typeof internal.headKernel === "function" ? internal.headKernel() : undefined;
  kernel?.resetStats();
  // AdamW's fused TensorFlow kernel runs outside tfjs's kernel registry (no tf.profile entry): its
  // wall time is taken around the optimizer's step instead.
  const optimizer = m.model.optimizer;
  const apply = optimizer.applyGradients.bind(optimizer);
  let optimizerMs = 0;
  optimizer.applyGradients = (g) => {
    const t = now();
    apply(g);
    optimizerMs += now() - t;
  };
  const t0 = now();
  const info = await tf.profile(() => m.step(xs, ys));
  const wallMs = now() - t0;
  optimizer.applyGradients = apply;
  const byName = new Map();
  // customGrad's forward functions show up as "unnamed scope" entries and tfjs ops as "<op>__op"
  // entries whose time contains their own kernels' again; on tensorflow, tfjs-node's `_FusedMatMul`
  // kernel runs as a BatchMatMul and an Add that are recorded too: all left out so that the kernel
  // times add up.
  const composite = (name) => name === "unnamed scope" || name.endsWith("__op") || (tf.getBackend() === "tensorflow" && name === "_FusedMatMul");
  const scopes = info.kernels.filter((k) => composite(k.name)).length;
  for (const k of info.kernels.filter((x) => !composite(x.name))) {
    const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    const e = byName.get(k.name) ?? { name: k.name, calls: 0, ms: 0 };
    e.calls += 1;
    e.ms += ms;
    byName.set(k.name, e);
  }
  if (kernel !== undefined && kernel.stats.forwardCalls + kernel.stats.backwardCalls > 0) {
    const { forwardMs, forwardCalls, backwardMs, backwardCalls } = kernel.stats;
    byName.set("head kernel: forward", { name: `head kernel: forward (ours, ${kernel.threads} threads)`, calls: forwardCalls, ms: forwardMs });
    byName.set("head kernel: backward", { name: `head kernel: backward (ours, ${kernel.threads} threads)`, calls: backwardCalls, ms: backwardMs });
  }
  if (optimizer.usedFusedKernel === true) byName.set("AdamW fused", { name: "AdamW step: TensorFlow's fused kernel (wall clock, its decay's Multiply included)", calls: 1, ms: optimizerMs });
  const kernels = [...byName.values()].sort((a, b) => b.ms - a.ms);
  const totalMs = kernels.reduce((s, k) => s + k.ms, 0);
  return { backend: be, preset, config, wallMs, totalMs, kernelCalls: info.kernels.length - scopes, scopes, newTensors: info.newTensors, peakBytes: info.peakBytes, top: kernels.slice(0, 10) };
}

const args = childArgs();
const modes = { train, profile };
sendResult(await modes[args.mode](args));
