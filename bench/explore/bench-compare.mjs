// Before/after of a change to the layers: trains the `tiny` preset (batch 8, fused head, adamW) with
// an older build of this package and with the current one, from the same weights, step by step
// interleaved in one process (both see the same machine load), then profiles 5 steps of each
// (interleaved) for the kernel counts and the kernel time outside the matmuls. Usage:
//   git worktree or copy of the old dist -> OLD_DIST (its imports must resolve @tensorflow/tfjs,
//   e.g. a folder next to a `node_modules` link), then after `npm run build`:
//   nice -n -15 node bench/explore/bench-compare.mjs OLD_DIST [steps=8] [threads=2]
// Prints a JSON line per build. Not a test: timings depend on load.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import path from "node:path";

const OLD = path.resolve(process.argv[2] ?? "");
const NEW = path.resolve(import.meta.dirname, "../../packages/layers/dist");
const steps = Number(process.argv[3] ?? 8);
const { setWasmBackend } = await import(`${NEW}/node.js`);
await setWasmBackend({ threads: Number(process.argv[4] ?? 2) });
const xs = tf.randomUniform([8, 64], 0, 50257, "int32", 1);
const ys = tf.randomUniform([8, 64, 1], 0, 50257, "int32", 2);
const runs = []; let weights;
for (const [name, dir] of [["before", OLD], ["after", NEW]]) {
  // Each build through its public entry point (index.js registers its layers).
  const { adamW, createGPT, GPT_PRESETS, sparseCrossEntropyFromLogits } = await import(`${dir}/index.js`);
  const model = createGPT(GPT_PRESETS.tiny);
  if (weights === undefined) weights = model.getWeights().map((w) => w.clone()); else model.setWeights(weights);
  model.compile({ optimizer: adamW({ learningRate: 3e-4, weightDecay: 0.1 }), loss: sparseCrossEntropyFromLogits });
  const first = await model.trainOnBatch(xs, ys);
  runs.push({ name, model, ms: [], losses: [first] });
}
for (let i = 0; i < steps; i++) for (const r of (i % 2 ? [...runs].reverse() : runs)) {
  const t = performance.now(); r.losses.push(await r.model.trainOnBatch(xs, ys)); r.ms.push(performance.now() - t);
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const r of runs) r.nonMatmul = [];
for (let i = 0; i < 5; i++) for (const r of runs) {
  const info = await tf.profile(() => r.model.trainOnBatch(xs, ys));
  const kernels = info.kernels.filter((k) => k.name !== "unnamed scope" && !k.name.endsWith("__op"));
  r.nonMatmul.push(kernels.filter((k) => k.name !== "BatchMatMul" && k.name !== "_FusedMatMul").reduce((s, k) => s + k.kernelTimeMs, 0));
  const count = (n) => kernels.filter((k) => k.name === n).length;
  r.kernels = { kernelCalls: kernels.length, identity: count("Identity"), transpose: count("Transpose"), multiply: count("Multiply"), add: count("Add") };
}
for (const r of runs) {
  console.log(JSON.stringify({ run: r.name, tokPerSecMedian: Math.round(512 / (median(r.ms) / 1000)), tokPerSecBest: Math.round(512 / (Math.min(...r.ms) / 1000)), stepMs: r.ms.map(Math.round), ...r.kernels, nonMatmulKernelMs: r.nonMatmul.map(Math.round), maxLossDiff: Math.max(...r.losses.map((l, i) => Math.abs(l - runs[0].losses[i]))) }));
}
process.exit(0);
