// Milliseconds of the kernels the tied head + cross-entropy are made of, on threaded wasm
// (tiny preset: 512 tokens, width 64, vocab 50,257). Run after `npx tsc -b`:
//   node scripts/bench-head-kernels.mjs [threads] [reps]
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { setWasmBackend } from "../dist/wasm-threads.js";

const threads = Number(process.argv[2] ?? 2);
const reps = Number(process.argv[3] ?? 5);
const r = await setWasmBackend({ threads });
const N = 512, C = 64, V = 50257;
const h = tf.randomNormal([N, C]);
const W = tf.randomNormal([V, C], 0, 0.02);
const Wt = tf.transpose(W);
const P = tf.softmax(tf.matMul(h, Wt));
const hT = tf.transpose(h);
function time(name, flops, f) {
  tf.dispose(f());
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const out = f();
    ms.push(performance.now() - t);
    tf.dispose(out);
  }
  ms.sort((a, b) => a - b);
  const best = ms[0];
  console.log(`${name.padEnd(40)} best ${best.toFixed(1).padStart(7)} ms  median ${ms[Math.floor(ms.length / 2)].toFixed(1).padStart(7)} ms` + (flops ? `  ${(flops / best / 1e6).toFixed(1)} GFLOP/s` : ""));
}
const sq = tf.randomNormal([1024, 1024]);
console.log("threads", r.threads);
time("matmul 1024^3", 2 * 1024 ** 3, () => tf.matMul(sq, sq));
time("fwd h@Wt [512,64]@[64,V]", 2 * N * C * V, () => tf.matMul(h, Wt));
time("dh P@W [512,V]@[V,64]", 2 * N * C * V, () => tf.matMul(P, W));
time("dWt hT@P [64,512]@[512,V]", 2 * N * C * V, () => tf.matMul(hT, P));
time("dWt 8 row-chunks of 64", 2 * N * C * V, () => tf.tidy(() => {
  let acc = null;
  for (let i = 0; i < 8; i++) {
    const m = tf.matMul(tf.slice(hT, [0, i * 64], [C, 64]), tf.slice(P, [i * 64, 0], [64, V]));
    acc = acc === null ? m : tf.add(acc, m);
  }
  return acc;
}));
time("dW transposeA flag matMul(P,h,true)", 2 * N * C * V, () => tf.matMul(P, h, true, false));
time("transpose W [V,C]", 0, () => tf.transpose(W));
time("transpose Wt [C,V]", 0, () => tf.transpose(Wt));
time("softmax [512,V]", 0, () => tf.softmax(P));
time("max [512,V] axis -1", 0, () => tf.max(P, -1));
time("mul [512,V] by scalar", 0, () => tf.mul(P, tf.scalar(0.5)));
time("add [V,C]", 0, () => tf.add(W, W));
time("scatterND [V,C] 512 rows", 0, () => tf.scatterND(tf.randomUniform([N, 1], 0, V, "int32"), h, [V, C]));
time("gather W rows 512", 0, () => tf.gather(W, tf.randomUniform([N], 0, V, "int32")));
time("slice P rows 64", 0, () => tf.slice(P, [64, 0], [64, V]));
const adam = tf.train.adam(1e-3);
const v = tf.variable(tf.randomNormal([V, C]));
const g = tf.randomNormal([V, C]);
time("adam.applyGradients [V,C]", 0, () => { adam.applyGradients({ [v.name]: g }); return []; });
