// GemvKernel rate on [K, N] weights (8 distinct ones, 75 MB for [768, 3072]: past the 32 MB L3).
// Exports named on the command line after the shape are timed interleaved (the 4-row variant
// measured on 2026-12-01 was built as `gemv` beside the one-row loop renamed `gemv1`).
// Run from packages/layers after `npx tsc -b`: node ../../bench/explore/gemv-rate.mjs [K N reps [export...]]
import { GEMV_KERNEL } from "../../packages/layers/dist/gemv-wasm.js";
const [K, N, reps] = [Number(process.argv[2] ?? 768), Number(process.argv[3] ?? 3072), Number(process.argv[4] ?? 30)];
const names = process.argv.length > 5 ? process.argv.slice(5) : ["gemv"];
const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
const inst = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(GEMV_KERNEL, "base64")), { env: { memory: mem, abort() { throw new Error("abort"); } } });
const count = 8; // distinct weights (8 x 9.4 MB > caches)
const bytes = K * N * 4;
mem.grow(Math.ceil((1024 + count * bytes + 4 * (K + 2 * N) + 65536) / 65536));
const f = new Float32Array(mem.buffer);
for (let i = 0; i < f.length; i++) f[i] = Math.random() - 0.5;
const x = 1024 + count * bytes, bias = x + K * 4, out = bias + N * 4;
const best = Object.fromEntries(names.map((n) => [n, Infinity]));
for (let r = 0; r < reps; r++) {
  for (const name of names) {
    const t = performance.now();
    for (let c = 0; c < count; c++) inst.exports[name](x, 1024 + c * bytes, bias, out, K, N);
    best[name] = Math.min(best[name], (performance.now() - t) / count);
  }
}
for (const [name, ms] of Object.entries(best)) console.log(`${name} [${K},${N}] best ${ms.toFixed(3)} ms = ${(bytes / ms / 1e6).toFixed(2)} GB/s`);
