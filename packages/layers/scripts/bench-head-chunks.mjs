// Head matmuls whole vs split into vocabulary chunks (separate tensors), threaded wasm.
//   node scripts/bench-head-chunks.mjs [threads] [reps] [chunk]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { setWasmBackend } from "../dist/wasm-threads.js";
await setWasmBackend({ threads: Number(process.argv[2] ?? 2) });
const reps = Number(process.argv[3] ?? 4);
const Vc = Number(process.argv[4] ?? 1024);
const N = 512, C = 64, V = 50257;
const k = Math.ceil(V / Vc);
const h = tf.randomNormal([N, C]), hT = tf.transpose(h), W = tf.randomNormal([V, C], 0, 0.02), Wt = tf.transpose(W);
const P = tf.softmax(tf.matMul(h, Wt));
const Wc = [], Wtc = [], Pc = [];
for (let j = 0; j < k; j++) {
  const size = Math.min(Vc, V - j * Vc);
  Wc.push(tf.slice(W, [j * Vc, 0], [size, C]));
  Wtc.push(tf.transpose(Wc[j]));
  Pc.push(tf.softmax(tf.matMul(h, Wtc[j])));
}
const sq = tf.randomNormal([1024, 1024]);
const flops = 2 * N * C * V;
const cases = [
  ["matmul 1024^3", 2 * 1024 ** 3, () => [tf.matMul(sq, sq)]],
  ["fwd whole", flops, () => [tf.matMul(h, Wt)]],
  ["fwd chunks", flops, () => Wtc.map((w) => tf.matMul(h, w))],
  ["dh whole", flops, () => [tf.matMul(P, W)]],
  ["dh chunks + addN", flops, () => [tf.tidy(() => tf.addN(Pc.map((p, j) => tf.matMul(p, Wc[j]))))]],
  ["dWt whole", flops, () => [tf.matMul(hT, P)]],
  ["dWt chunks", flops, () => Pc.map((p) => tf.matMul(hT, p))],
  ["dWt chunks transposed+concat", flops, () => [tf.tidy(() => tf.concat(Pc.map((p) => tf.transpose(tf.matMul(hT, p)))))]],
  ["slice W into chunks", 0, () => Wc.map((_, j) => tf.slice(W, [j * Vc, 0], [Math.min(Vc, V - j * Vc), C]))],
  ["softmax chunks", 0, () => Pc.map((p) => tf.softmax(p))],
  ["softmax whole", 0, () => [tf.softmax(P)]],
];
const ms = cases.map(() => []);
for (let r = 0; r < reps; r++) cases.forEach(([, , f], i) => { const t = performance.now(); const out = f(); ms[i].push(performance.now() - t); tf.dispose(out); });
cases.forEach(([name, fl], i) => { const s = [...ms[i]].sort((a, b) => a - b); console.log(`${name.padEnd(30)} best ${s[0].toFixed(1).padStart(7)} median ${s[Math.floor(s.length / 2)].toFixed(1).padStart(7)} ms` + (fl ? ` ${(fl / s[0] / 1e6).toFixed(1)} GFLOP/s` : "")); });
