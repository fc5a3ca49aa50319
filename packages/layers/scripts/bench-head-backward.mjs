// The head's weight gradient dW = P^T @ h (P = softmax(h @ W^T), [N, V]) three ways, threaded
// wasm, interleaved: (a) transpose(h^T @ P) (packs the 103 MB P as the right operand),
// (b) P^T recomputed as exp([W, 1] @ [h^T; -lse]) then P^T @ h, (c) the same logits with an
// extra zero column through Softmax (vectorised) and the rows rescaled by 1 / last column.
//   nice -n -15 node scripts/bench-head-backward.mjs [threads=2] [reps=4]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { setWasmBackend } from "../dist/wasm-threads.js";
await setWasmBackend({ threads: Number(process.argv[2] ?? 2) });
const reps = Number(process.argv[3] ?? 4);
const N = 512, C = 64, V = 50257;
const h = tf.randomNormal([N, C]);
const Ws = Array.from({ length: reps + 1 }, (_, i) => tf.randomNormal([V, C], 0, 0.5, "float32", i));
const Ps = Ws.map((w) => tf.softmax(tf.matMul(h, tf.transpose(w))));
const lses = Ws.map((w) => tf.logSumExp(tf.matMul(h, tf.transpose(w)), -1));
const cases = [
  ["(a) transpose(hT @ P)", (i) => tf.transpose(tf.matMul(tf.transpose(h), Ps[i]))],
  ["(b) exp([W,1]@[hT;-lse]) @ h", (i) => {
    const a = tf.concat([Ws[i], tf.ones([V, 1])], 1);
    const b = tf.concat([tf.transpose(h), tf.reshape(tf.neg(lses[i]), [1, N])], 0);
    return tf.matMul(tf.exp(tf.matMul(a, b)), h);
  }],
  ["(c) softmax([..|0]) @ [h;0] / last", (i) => {
    const a = tf.concat([Ws[i], tf.ones([V, 1])], 1);
    const b = tf.pad(tf.concat([tf.transpose(h), tf.reshape(tf.neg(lses[i]), [1, N])], 0), [[0, 0], [0, 1]]);
    const s = tf.softmax(tf.matMul(a, b)); // [V, N + 1]
    const d = tf.matMul(s, tf.pad(h, [[0, 1], [0, 0]])); // [V, C]
    return tf.div(d, tf.slice(s, [0, N], [V, 1]));
  }],
  ["parts: [W,1]@[hT;-lse]", (i) => tf.matMul(tf.concat([Ws[i], tf.ones([V, 1])], 1), tf.concat([tf.transpose(h), tf.reshape(tf.neg(lses[i]), [1, N])], 0))],
  ["parts: exp [V,N]", (i) => tf.exp(Ps[i])],
  ["parts: softmax [V,N+1]", (i) => tf.softmax(Ps[i])],
  ["parts: PT @ h", (i) => tf.matMul(tf.reshape(Ps[i], [V, N]), h)],
];
const ref = tf.transpose(tf.matMul(tf.transpose(h), Ps[0]));
for (const [name, f] of cases.slice(1, 3)) {
  const out = tf.tidy(() => f(0));
  console.log(name, "max abs diff vs (a)", tf.max(tf.abs(tf.sub(out, ref))).dataSync()[0], "max |ref|", tf.max(tf.abs(ref)).dataSync()[0]);
  out.dispose();
}
const ms = cases.map(() => []);
for (let r = 1; r <= reps; r++) cases.forEach(([, f], c) => {
  const t = performance.now();
  const out = tf.tidy(() => f(r));
  out.dataSync();
  ms[c].push(performance.now() - t);
  out.dispose();
});
cases.forEach(([name], c) => { const s = [...ms[c]].sort((a, b) => a - b); console.log(`${name.padEnd(36)} best ${s[0].toFixed(1).padStart(7)} median ${s[Math.floor(s.length / 2)].toFixed(1).padStart(7)} ms`); });
