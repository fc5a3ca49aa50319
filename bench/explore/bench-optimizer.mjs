// Cost of one optimizer step over every weight of the tiny preset (3.3M parameters) on threaded
// wasm: tf.train.adam vs adamW. Run after `npm run build`: node bench/explore/bench-optimizer.mjs [reps]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { adamW, createGPT, GPT_PRESETS } from "@tfgpt/layers";
import { setWasmBackend } from "@tfgpt/layers/node";
await setWasmBackend({ threads: 2 });
const reps = Number(process.argv[2] ?? 5);
const model = createGPT(GPT_PRESETS.tiny);
const grads = Object.fromEntries(model.trainableWeights.map((w) => [w.read().name, tf.randomNormal(w.shape, 0, 1e-3)]));
const opts = { "tf.train.adam": tf.train.adam(3e-4), adamW: adamW({ learningRate: 3e-4, weightDecay: 0.1 }) };
const ms = Object.fromEntries(Object.keys(opts).map((k) => [k, []]));
for (let r = 0; r <= reps; r++) {
  for (const [name, opt] of Object.entries(opts)) {
    const t = performance.now();
    opt.applyGradients(grads);
    if (r > 0) ms[name].push(performance.now() - t);
  }
}
for (const [name, m] of Object.entries(ms)) {
  m.sort((a, b) => a - b);
  console.log(`${name.padEnd(14)} ${model.trainableWeights.length} variables, ${model.countParams()} parameters: best ${m[0].toFixed(1)} ms, median ${m[Math.floor(m.length / 2)].toFixed(1)} ms`);
}
