// Cached decoding of the gpt2 124M shape on threaded wasm, back to back in one process: the trunk's
// one-row dense layers on tfjs's matmuls (XNNPACK) vs on the batch-1 kernel (src/gemv.ts), with
// the largest logit difference between the two. Run after `npx tsc -b`:
// node scripts/bench-decode-gemv.mjs [threads] [preset] [rounds]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "../dist/register.js";
import { createGPT, GPT_PRESETS } from "../dist/gpt.js";
import { KVCacheDecoder } from "../dist/kv-cache.js";
import { setWasmBackend } from "../dist/wasm-threads.js";
const threads = Number(process.argv[2] ?? 2);
await setWasmBackend({ threads });
const model = createGPT(GPT_PRESETS[process.argv[3] ?? "gpt2"]);
const rounds = Number(process.argv[4] ?? 6);
const prompt = Array.from({ length: 32 }, (_, i) => (i * 7919) % 50257);
const tfjs = new KVCacheDecoder(model);
tfjs.gemvTried = true; // private: keeps this session on tfjs's matmuls
const kernel = new KVCacheDecoder(model);
let diff = 0;
const t = { tfjs: [], kernel: [] };
for (const d of [tfjs, kernel]) d.step(prompt).dispose();
for (let r = 0; r < rounds; r++) {
  let a = null;
  for (const [name, d] of [["tfjs", tfjs], ["kernel", kernel]]) {
    const s = performance.now();
    const l = d.step([(r * 31) % 50257]);
    const v = l.dataSync();
    t[name].push(performance.now() - s);
    if (a === null) a = v.slice();
    else for (let i = 0; i < v.length; i++) diff = Math.max(diff, Math.abs(v[i] - a[i]));
    l.dispose();
  }
}
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
console.log(`wasm ${threads} threads: step ms median tfjs ${med(t.tfjs).toFixed(1)} kernel ${med(t.kernel).toFixed(1)} (first kernel step, with the weight copy: ${t.kernel[0].toFixed(0)} ms); tokens/s ${(1000 / med(t.tfjs)).toFixed(2)} -> ${(1000 / med(t.kernel)).toFixed(2)}; ratio ${(med(t.tfjs) / med(t.kernel)).toFixed(2)}x; max |logit diff| ${diff.toExponential(2)}`);
