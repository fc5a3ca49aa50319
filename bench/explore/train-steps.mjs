// Milliseconds a `tiny` GPT training step (batch 8, context 64, fused head + loss, adamW) takes,
// on the built @tfgpt/layers or on a copy of its dist given as the first argument (to compare two
// builds back to back: run them alternately). Not a test: timings depend on the machine's load.
//   node bench/explore/train-steps.mjs [distDir=packages/layers/dist] [steps=6] [backend=wasm] [threads=2]
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

const dist = path.resolve(process.argv[2] ?? "packages/layers/dist");
const steps = Number(process.argv[3] ?? 6);
const backend = process.argv[4] ?? "wasm";
const threads = Number(process.argv[5] ?? 2);
const layers = await import(pathToFileURL(path.join(dist, "index.js")).href);
const { setWasmBackend } = await import(pathToFileURL(path.join(dist, "node.js")).href);
if (backend === "wasm") await setWasmBackend({ threads });
else await tf.setBackend(backend);

const batch = 8;
const config = { ...layers.GPT_PRESETS.tiny, seed: 1 };
const model = layers.createGPT(config);
model.compile({ optimizer: layers.adamW({ learningRate: 3e-4, weightDecay: 0.1 }), loss: layers.sparseCrossEntropyFromLogits });
const xs = tf.randomUniform([batch, config.contextLength], 0, config.vocabSize, "int32", 1);
const ys = tf.randomUniform([batch, config.contextLength, 1], 0, config.vocabSize, "int32", 2);
const losses = [await model.trainOnBatch(xs, ys)]; // warm-up
const tensors = tf.memory().numTensors;
const ms = [];
for (let i = 0; i < steps; i++) {
  const t = performance.now();
  losses.push(await model.trainOnBatch(xs, ys));
  ms.push(performance.now() - t);
}
const sorted = [...ms].sort((a, b) => a - b);
console.log(JSON.stringify({
  dist: path.relative(process.cwd(), dist),
  backend,
  fusedSteps: model.fusedSteps,
  medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]),
  bestMs: Math.round(sorted[0]),
  stepMs: ms.map(Math.round),
  losses: losses.map((l) => +l.toFixed(4)),
  tensorsLeaked: tf.memory().numTensors - tensors,
}));
