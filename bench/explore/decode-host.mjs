// Cached greedy decoding of the gpt2 124M shape (prompt 32, `rounds` new tokens) on wasm, two
// sessions interleaved step by step in one process: A = the previous KVCacheDecoder (trunk dense
// layers on the kernel, the rest tfjs; compiled from git into dist/kv-cache-old.js) vs B = the
// current one (one-row steps wholly on the host + kernel, head on the kernel).
// Make A (from packages/layers, after `npx tsc -b`; dist/ is not tracked, delete it afterwards):
//   git show 9c6801e:packages/layers/src/kv-cache.ts > /tmp/kv-old.ts
//   node -e 'const ts=require("typescript"),fs=require("fs");fs.writeFileSync("dist/kv-cache-old.js",ts.transpileModule(fs.readFileSync("/tmp/kv-old.ts","utf8"),{compilerOptions:{module:ts.ModuleKind.ESNext,target:ts.ScriptTarget.ES2022}}).outputText)'
// Run from packages/layers: node ../../bench/explore/decode-host.mjs [threads] [preset] [rounds]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "../../packages/layers/dist/register.js";
import { createGPT, GPT_PRESETS } from "../../packages/layers/dist/gpt.js";
import { KVCacheDecoder } from "../../packages/layers/dist/kv-cache.js";
import { KVCacheDecoder as OldDecoder } from "../../packages/layers/dist/kv-cache-old.js";
import { setWasmBackend } from "../../packages/layers/dist/wasm-threads.js";
const threads = Number(process.argv[2] ?? 1);
await setWasmBackend({ threads });
const model = createGPT(GPT_PRESETS[process.argv[3] ?? "gpt2"]);
const rounds = Number(process.argv[4] ?? 16);
const prompt = Array.from({ length: 32 }, (_, i) => (i * 7919) % 50257);
const sessions = { old: new OldDecoder(model), host: new KVCacheDecoder(model) };
const t = { old: [], host: [] };
const next = {};
let diff = 0;
let sameIds = true;
for (let r = 0; r <= rounds; r++) {
  let a = null;
  for (const [name, d] of Object.entries(sessions)) {
    const s = performance.now();
    const l = d.step(r === 0 ? prompt : [next[name]]);
    const v = l.dataSync();
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    next[name] = best;
    const ms = performance.now() - s;
    if (r > 1) t[name].push(ms);
    if (a === null) a = v.slice();
    else for (let i = 0; i < v.length; i++) diff = Math.max(diff, Math.abs(v[i] - a[i]));
    l.dispose();
  }
  if (next.old !== next.host) sameIds = false;
}
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const min = (a) => Math.min(...a);
console.log(`wasm ${threads} threads, ${rounds} tokens: step ms median old ${med(t.old).toFixed(1)} host ${med(t.host).toFixed(1)} (${(med(t.old) / med(t.host)).toFixed(2)}x); min old ${min(t.old).toFixed(1)} host ${min(t.host).toFixed(1)}; host tokens/s (median step) ${(1000 / med(t.host)).toFixed(1)}; max |logit diff| ${diff.toExponential(2)}; same greedy ids: ${sameIds}`);
