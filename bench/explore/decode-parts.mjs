// Where a host step of the gpt2 shape goes: the whole one-row step vs its 48 trunk kernel calls
// plus the head call alone, interleaved in one process (1 wasm thread).
// Run from packages/layers after `npx tsc -b`: node ../../bench/explore/decode-parts.mjs [rounds]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "../../packages/layers/dist/register.js";
import { createGPT, GPT_PRESETS } from "../../packages/layers/dist/gpt.js";
import { KVCacheDecoder } from "../../packages/layers/dist/kv-cache.js";
import { setWasmBackend } from "../../packages/layers/dist/wasm-threads.js";
await setWasmBackend({ threads: 1 });
const model = createGPT(GPT_PRESETS.gpt2);
const rounds = Number(process.argv[2] ?? 16);
const d = new KVCacheDecoder(model);
d.step(Array.from({ length: 32 }, (_, i) => i)).dispose();
d.step([5]).dispose();
const trunk = d.gemv; // private
const x768 = new Float32Array(768).fill(0.1), x3072 = new Float32Array(3072).fill(0.1);
const t = { step: [], trunk: [], head: [] };
for (let r = 0; r < rounds; r++) {
  let s = performance.now();
  d.step([r + 7]).dispose();
  t.step.push(performance.now() - s);
  s = performance.now();
  for (const sl of trunk.slots) { trunk.kernel.run(sl[0], x768); trunk.kernel.run(sl[1], x768); trunk.kernel.run(sl[2], x768); trunk.kernel.run(sl[3], x3072); }
  t.trunk.push(performance.now() - s);
  s = performance.now();
  trunk.kernel.run(trunk.head, x768);
  t.head.push(performance.now() - s);
}
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
for (const [k, v] of Object.entries(t)) console.log(`${k}: median ${med(v).toFixed(1)} ms, min ${Math.min(...v).toFixed(1)} ms`);
