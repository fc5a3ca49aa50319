// Head matmuls when the right operand is a new tensor on every call (as in training, where
// XNNPACK must pack it again) vs reused (packed once, cached by tfjs-backend-wasm), threaded wasm.
//   node scripts/bench-head-packing.mjs [threads] [reps]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { setWasmBackend } from "../dist/wasm-threads.js";
await setWasmBackend({ threads: Number(process.argv[2] ?? 2) });
const reps = Number(process.argv[3] ?? 3);
const N = 512, C = 64, V = 50257;
const h = tf.randomNormal([N, C]), hT = tf.transpose(h);
const Ws = Array.from({ length: reps + 1 }, (_, i) => tf.randomNormal([V, C], 0, 0.02, "float32", i));
const Wts = Ws.map((w) => tf.transpose(w));
const Ps = Ws.map((w) => tf.softmax(tf.matMul(h, tf.transpose(w))));
const PTs = Ps.map((p) => tf.transpose(p));
const flops = 2 * N * C * V;
const cases = [
  ["fwd h@Wt, Wt reused", (i) => tf.matMul(h, Wts[0])],
  ["fwd h@Wt, Wt new", (i) => tf.matMul(h, Wts[i])],
  ["fwd h@W^T transposeB, W new", (i) => tf.matMul(h, Ws[i], false, true)],
  ["dh P@W, W reused", (i) => tf.matMul(Ps[i], Ws[0])],
  ["dh P@W, W new", (i) => tf.matMul(Ps[i], Ws[i])],
  ["dWt hT@P, P reused", (i) => tf.matMul(hT, Ps[0])],
  ["dWt hT@P, P new", (i) => tf.matMul(hT, Ps[i])],
  ["dWt hT@PT^T transposeB, P new", (i) => tf.matMul(hT, PTs[i], false, true)],
  ["dW PT@h (P^T given)", (i) => tf.matMul(PTs[i], h)],
];
const ms = cases.map(() => []);
for (const [, f] of cases) tf.dispose(f(0));
for (let r = 1; r <= reps; r++) cases.forEach(([, f], c) => { const t = performance.now(); const out = f(r); ms[c].push(performance.now() - t); out.dispose(); });
cases.forEach(([name], c) => { const s = [...ms[c]].sort((a, b) => a - b); console.log(`${name.padEnd(32)} best ${s[0].toFixed(1).padStart(7)} median ${s[Math.floor(s.length / 2)].toFixed(1).padStart(7)} ms ${(flops / s[0] / 1e6).toFixed(1)} GFLOP/s`); });
