// Head matmuls in [tokens, vocab] layout vs [vocab, tokens] layout on threaded wasm.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { setWasmBackend } from "../dist/wasm-threads.js";
const threads = Number(process.argv[2] ?? 2);
const reps = Number(process.argv[3] ?? 5);
await setWasmBackend({ threads });
const N = 512, C = 64, V = 50257;
const h = tf.randomNormal([N, C]), W = tf.randomNormal([V, C], 0, 0.02);
const Wt = tf.transpose(W), hT = tf.transpose(h);
const P = tf.softmax(tf.matMul(h, Wt)), PT = tf.transpose(P);
const sq = tf.randomNormal([1024, 1024]);
const cases = [
  ["matmul 1024^3", 2 * 1024 ** 3, () => tf.matMul(sq, sq)],
  ["fwd  h@Wt  [N,C]@[C,V]", 2 * N * C * V, () => tf.matMul(h, Wt)],
  ["fwdT W@hT  [V,C]@[C,N]", 2 * N * C * V, () => tf.matMul(W, hT)],
  ["dh   P@W   [N,V]@[V,C]", 2 * N * C * V, () => tf.matMul(P, W)],
  ["dhT  Wt@PT [C,V]@[V,N]", 2 * N * C * V, () => tf.matMul(Wt, PT)],
  ["dWt  hT@P  [C,N]@[N,V]", 2 * N * C * V, () => tf.matMul(hT, P)],
  ["dW   PT@h  [V,N]@[N,C]", 2 * N * C * V, () => tf.matMul(PT, h)],
  ["transpose [N,V]", 0, () => tf.transpose(P)],
  ["softmax [N,V]", 0, () => tf.softmax(P)],
];
const ms = cases.map(() => []);
for (let r = 0; r < reps; r++) {
  cases.forEach(([, , f], i) => {
    const t = performance.now();
    const out = f();
    out.dataSync().length; // wasm kernels are synchronous; read to be sure
    ms[i].push(performance.now() - t);
    out.dispose();
  });
}
cases.forEach(([name, flops], i) => {
  const s = [...ms[i]].sort((a, b) => a - b);
  console.log(`${name.padEnd(28)} best ${s[0].toFixed(1).padStart(7)} ms median ${s[Math.floor(s.length / 2)].toFixed(1).padStart(7)} ms` + (flops ? ` ${(flops / s[0] / 1e6).toFixed(1)} GFLOP/s best` : ""));
});
