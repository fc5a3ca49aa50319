// Cached greedy decoding of the gpt2 124M shape (prompt 32, `rounds` new tokens) on threaded wasm,
// two sessions interleaved step by step in one process: the trunk's one-row dense layers on
// tfjs's matmuls (XNNPACK) vs on the batch-1 kernel (src/gemv.ts). Prints median step times,
// tokens/s of the whole run (prefill and the kernel's one-time weight copy included), the largest
// logit difference and whether the greedy ids agree. Run after `npx tsc -b`:
// node bench/explore/bench-decode-gemv.mjs [threads] [preset] [rounds]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { createGPT, GPT_PRESETS, KVCacheDecoder } from "@tfgpt/layers";
import { setWasmBackend } from "@tfgpt/layers/node";
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
const total = { tfjs: 0, kernel: 0 };
const next = { tfjs: null, kernel: null };
let sameIds = true;
for (let r = 0; r <= rounds; r++) {
  let a = null;
  for (const [name, d] of [["tfjs", tfjs], ["kernel", kernel]]) {
    const s = performance.now();
    const l = d.step(r === 0 ? prompt : [next[name]]);
    const v = l.dataSync();
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    next[name] = best;
    const ms = performance.now() - s;
    total[name] += ms;
    if (r > 0) t[name].push(ms);
    if (a === null) a = v.slice();
    else for (let i = 0; i < v.length; i++) diff = Math.max(diff, Math.abs(v[i] - a[i]));
    l.dispose();
  }
  if (next.tfjs !== next.kernel) sameIds = false;
}
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const tps = (name) => ((rounds * 1000) / total[name]).toFixed(2);
console.log(`wasm ${threads} threads, ${rounds} tokens: step ms median tfjs ${med(t.tfjs).toFixed(1)} kernel ${med(t.kernel).toFixed(1)} (${(med(t.tfjs) / med(t.kernel)).toFixed(2)}x; first kernel step with the weight copy ${t.kernel[0].toFixed(0)} ms); whole run tokens/s tfjs ${tps("tfjs")} kernel ${tps("kernel")}; max |logit diff| ${diff.toExponential(2)}; same greedy ids: ${sameIds}`);
