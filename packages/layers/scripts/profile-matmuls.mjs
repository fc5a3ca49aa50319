// One profiled training step of the tiny preset on threaded wasm: BatchMatMul time by shape, and
// every other kernel summed by name. Run after `npx tsc -b`: node scripts/profile-matmuls.mjs [threads]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "../dist/register.js";
import { adamW } from "../dist/adamw.js";
import { createGPT, GPT_PRESETS } from "../dist/gpt.js";
import { sparseCrossEntropyFromLogits } from "../dist/losses.js";
import { setWasmBackend } from "../dist/wasm-threads.js";
await setWasmBackend({ threads: Number(process.argv[2] ?? 2) });
const model = createGPT(GPT_PRESETS.tiny);
model.compile({ optimizer: adamW({ learningRate: 3e-4 }), loss: sparseCrossEntropyFromLogits });
const xs = tf.randomUniform([8, 64], 0, 50257, "int32", 1);
const ys = tf.randomUniform([8, 64, 1], 0, 50257, "int32", 2);
await model.trainOnBatch(xs, ys);
const info = await tf.profile(() => model.trainOnBatch(xs, ys));
const by = new Map();
for (const k of info.kernels) {
  if (k.name === "unnamed scope") continue;
  const key = k.name === "BatchMatMul" ? `BatchMatMul ${k.inputShapes.map((s) => `[${s}]`).join("@")}` : k.name;
  const e = by.get(key) ?? { calls: 0, ms: 0 };
  e.calls++;
  e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
  by.set(key, e);
}
for (const [k, e] of [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) console.log(`${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(4)}x ${k}`);
