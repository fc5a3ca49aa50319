// Tokens/s of training steps of the `tiny` GPT preset (batch 8, context 64) on threaded wasm:
// stock train function, fused head + loss on tfjs ops, fused on the head kernel; interleaved step
// by step in one process so that all see the same machine load, each step compared with the
// 1024^3 matmul rate measured around it; then one tf.profile of each, summed by kernel. Run after `npm run build`:
//   node bench/explore/bench-tiny.mjs [steps=4] [threads=2] [backend=wasm]
// Prints a JSON line per configuration and a profile table. Not a test: timings depend on load.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { adamW, createGPT, GPT_PRESETS, sparseCrossEntropyFromLogits } from "@tfgpt/layers";
import { enableHeadKernelThreads, setWasmBackend } from "@tfgpt/layers/node";

const steps = Number(process.argv[2] ?? 4);
const threads = Number(process.argv[3] ?? 2);
const backend = process.argv[4] ?? "wasm";
if (backend === "wasm") console.log(JSON.stringify(await setWasmBackend({ threads })));
else await tf.setBackend(backend);
console.log(JSON.stringify({ headKernelThreads: enableHeadKernelThreads({ threads }) }));
const batch = 8;
const config = GPT_PRESETS.tiny;
const T = config.contextLength, C = config.embeddingDim, V = config.vocabSize, L = config.numLayers;
// Matmul FLOPs per token: forward = head 2CV + per block 24C^2 + 4TC; training = 3x forward.
const trainFlopsPerToken = 3 * (2 * C * V + L * (24 * C * C + 4 * T * C));

function matmulRate(n = 1024, reps = 2) {
  const a = tf.randomNormal([n, n]);
  tf.matMul(a, a).dispose();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const c = tf.matMul(a, a);
    tf.slice(c, [0, 0], [1, 1]).dataSync();
    best = Math.min(best, performance.now() - t);
    c.dispose();
  }
  a.dispose();
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

const configs = {
  "stock (tfjs train fn, tf.train.adam)": { fused: false, optimizer: () => tf.train.adam(3e-4) },
  "fused, tfjs ops (adamW)": { fused: true, head: "tfjs", optimizer: () => adamW({ learningRate: 3e-4, weightDecay: 0.1 }) },
  "fused, head kernel (adamW)": { fused: true, head: "kernel", optimizer: () => adamW({ learningRate: 3e-4, weightDecay: 0.1 }) },
};
const xs = tf.randomUniform([batch, T], 0, V, "int32", 1);
const ys = tf.randomUniform([batch, T, 1], 0, V, "int32", 2);
const runs = [];
let weights;
for (const [name, c] of Object.entries(configs)) {
  const model = createGPT(config);
  if (weights === undefined) weights = model.getWeights().map((w) => w.clone());
  else model.setWeights(weights);
  model.fusedTraining = c.fused;
  if (c.head !== undefined) model.headImplementation = c.head;
  model.compile({ optimizer: c.optimizer(), loss: sparseCrossEntropyFromLogits });
  const first = await model.trainOnBatch(xs, ys); // warm-up: kernels, optimizer slots
  runs.push({ name, model, ms: [], pct: [], losses: [first], tensors: tf.memory().numTensors });
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (let i = 0; i < steps; i++) {
  for (const r of runs) {
    const before = matmulRate();
    const t = performance.now();
    r.losses.push(await r.model.trainOnBatch(xs, ys));
    const ms = performance.now() - t;
    const rate = (before + matmulRate()) / 2;
    r.ms.push(ms);
    r.pct.push((100 * ((batch * T) / (ms / 1000)) * trainFlopsPerToken) / 1e9 / rate);
  }
}
for (const r of runs) {
  console.log(JSON.stringify({
    config: r.name,
    tokensPerSecondMedian: Math.round((batch * T) / (median(r.ms) / 1000)),
    tokensPerSecondBest: Math.round((batch * T) / (Math.min(...r.ms) / 1000)),
    stepMs: r.ms.map(Math.round),
    percentOfMatmulMedian: +median(r.pct).toFixed(1),
    percentOfMatmulBest: +Math.max(...r.pct).toFixed(1),
    losses: r.losses.map((l) => +l.toFixed(4)),
    tensorsLeakedPerStep: (tf.memory().numTensors - r.tensors) === 0 ? 0 : "see below",
  }));
}
const leakCheck = tf.memory().numTensors;
for (const r of runs) await r.model.trainOnBatch(xs, ys);
console.log(JSON.stringify({ tensorsAfterOneMoreStepEach: tf.memory().numTensors - leakCheck }));

// One profiled step of each, kernel times summed by kernel name ("unnamed scope" entries are
// customGrad wrappers whose time double-counts their kernels).
for (const r of runs) {
  const t = performance.now();
  const info = await tf.profile(() => r.model.trainOnBatch(xs, ys));
  const wall = performance.now() - t;
  const by = new Map();
  for (const k of info.kernels) {
    if (k.name === "unnamed scope") continue;
    const e = by.get(k.name) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    by.set(k.name, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`\n${r.name}: ${info.kernels.length} kernel calls, kernels ${total.toFixed(0)} ms, wall ${wall.toFixed(0)} ms (profiled)`);
  console.log("| kernel | calls | ms | % |\n|---|---|---|---|");
  for (const [name, e] of rows.slice(0, 12)) console.log(`| ${name} | ${e.calls} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / total).toFixed(1)} |`);
}
