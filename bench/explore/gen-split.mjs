// Splits a cached generate() of the gpt2 shape into prefill and per-token time (wasm).
import { generate } from "@tfgpt/layers";
import { fromPretrained, selectBackend } from "@tfgpt/layers/node";
const threads = Number(process.argv[2] ?? 2);
await selectBackend({ prefer: "wasm", threads });
const model = await fromPretrained("bench/out/gpt2-random");
const ids = Array.from({ length: 32 }, (_, i) => (i * 997) % 50257);
generate(model, ids, { maxNewTokens: 128, temperature: 0, stop: null });
for (let r = 0; r < 2; r++) {
  const times = [];
  let t = performance.now();
  const t0 = t;
  generate(model, ids, { maxNewTokens: 128, temperature: 0, stop: null, onToken: () => { const n = performance.now(); times.push(n - t); t = n; } });
  const total = performance.now() - t0;
  const rest = times.slice(1).sort((a, b) => a - b);
  console.log(`threads ${threads}: total ${total.toFixed(0)} ms = ${(128000 / total).toFixed(2)} tok/s; first token (prefill) ${times[0].toFixed(0)} ms; per token median ${rest[rest.length >> 1].toFixed(1)} ms, min ${rest[0].toFixed(1)}, max ${rest[rest.length - 1].toFixed(1)}, sum ${rest.reduce((a, b) => a + b, 0).toFixed(0)}`);
}
