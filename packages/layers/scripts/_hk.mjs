import { HeadKernel } from "../dist/head-kernel.js";
import { enableHeadKernelThreads } from "../dist/head-kernel-node.js";
import { headKernel } from "../dist/head-kernel.js";
const threads = Number(process.argv[2] ?? 1);
const N = Number(process.argv[3] ?? 512), C = 64, V = 50257;
enableHeadKernelThreads({ threads });
const k = headKernel();
const h = new Float32Array(N * C).map(() => Math.random() - 0.5);
const w = new Float32Array(V * C).map(() => (Math.random() - 0.5) * 0.1);
const labels = new Int32Array(N).map(() => Math.floor(Math.random() * V));
for (let rep = 0; rep < 5; rep++) {
  let t = performance.now();
  const f = k.forward(h, w, labels, N, V, C);
  const tf_ = performance.now() - t;
  t = performance.now();
  const g = k.backward(new Float32Array(N).fill(1 / N));
  const tb = performance.now() - t;
  console.log(`threads ${k.threads} fwd ${tf_.toFixed(0)} bwd ${tb.toFixed(0)} loss0 ${f.losses[0].toFixed(4)} dh0 ${g.dHidden[0].toExponential(3)} dw0 ${g.dTable[0].toExponential(3)}`);
}
// reference check on a few entries (float64)
const f = k.forward(h, w, labels, N, V, C); const g = k.backward(new Float32Array(N).fill(1 / N));
const r = 3; const z = new Float64Array(V); let mx = -Infinity;
for (let v = 0; v < V; v++) { let s = 0; for (let c = 0; c < C; c++) s += h[r*C+c]*w[v*C+c]; z[v] = s; mx = Math.max(mx, s); }
let sum = 0; for (let v = 0; v < V; v++) sum += Math.exp(z[v]-mx); const lse = mx + Math.log(sum);
console.log("loss ref", lse - z[labels[r]], "kernel", f.losses[r]);
const dh = new Float64Array(C); for (let v = 0; v < V; v++) { const p = Math.exp(z[v]-lse) - (v === labels[r] ? 1 : 0); for (let c = 0; c < C; c++) dh[c] += p * w[v*C+c] / N; }
let err = 0; for (let c = 0; c < C; c++) err = Math.max(err, Math.abs(dh[c] - g.dHidden[r*C+c])); console.log("dh max err", err, "scale", Math.abs(dh[0]));
