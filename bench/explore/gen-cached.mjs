// Cached greedy generation only (no window re-run), ours on wasm, from the gpt2-random safetensors
// that bench/generation_hf.py --save wrote: a short stand-in for bench/rows/generation.js when the
// machine is too loaded for the full row to finish in its time limit.
// Run from the repo root after `npm run build`: node bench/explore/gen-cached.mjs [threads] [reps] [dir]
// Prints tokens/s of each rep (after one warm-up), the load average and the ids.
import os from "node:os";
import { generate } from "@tfgpt/layers";
import { fromPretrained, selectBackend } from "@tfgpt/layers/node";
const threads = Number(process.argv[2] ?? 2);
const reps = Number(process.argv[3] ?? 2);
const dir = process.argv[4] ?? "bench/out/gpt2-random";
await selectBackend({ prefer: "wasm", threads });
const model = await fromPretrained(dir);
const ids = Array.from({ length: 32 }, (_, i) => (i * 997) % 50257);
const options = { maxNewTokens: 128, temperature: 0, stop: null };
let out = generate(model, ids, options);
const tps = [];
for (let r = 0; r < reps; r++) {
  const t = performance.now();
  out = generate(model, ids, options);
  tps.push((128 * 1000) / (performance.now() - t));
}
console.log(JSON.stringify({ threads, tokensPerSec: tps.map((v) => Number(v.toFixed(2))), load: os.loadavg().map((v) => Number(v.toFixed(1))), rssMB: Math.round(process.memoryUsage().rss / 2 ** 20), ids: out }));
