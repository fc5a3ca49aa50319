// Tokens/s of one training step of the `tiny` GPT preset (batch 8, context 64, Adam) next to the
// backend's plain matmul rate, measured in the same process. Run after `npx tsc -b`:
//   node scripts/bench-tiny.mjs [wasm|cpu] [steps]
// Prints one JSON line. Not a test: timings depend on the machine and its load.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "../dist/register.js";
import { createGPT, GPT_PRESETS } from "../dist/gpt.js";
import { sparseCrossEntropyFromLogits } from "../dist/losses.js";
import { TokenEmbedding } from "../dist/token-embedding.js";

const backend = process.argv[2] ?? "wasm";
const steps = Number(process.argv[3] ?? 5);
await tf.setBackend(backend);
const batch = 8;
const config = GPT_PRESETS.tiny;
const T = config.contextLength;
const C = config.embeddingDim;
const V = config.vocabSize;

/** Best-of-n GFLOP/s of a plain (untransposed) matmul [m, k] @ [k, n]. */
function matmulRate(m, k, n, reps = 3) {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  tf.matMul(a, b).dispose();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const c = tf.matMul(a, b);
    tf.slice(c, [0, 0], [1, 1]).dataSync(); // wasm kernels are synchronous; avoid timing a 100 MB readout
    best = Math.min(best, performance.now() - t);
    c.dispose();
  }
  tf.dispose([a, b]);
  return (2 * m * k * n) / (best / 1000) / 1e9;
}

// Matmul FLOPs of one token's forward pass: per block the four projections (24 C^2) and the
// attention scores and weighted sum over all T positions (4 T C); the tied head (2 C V).
// Training costs 3x forward (backward = 2 matmuls per forward matmul).
const L = config.numLayers;
const forwardFlops = 2 * C * V + L * (24 * C * C + 4 * T * C);
const trainFlopsPerToken = 3 * forwardFlops;

const model = createGPT(config);
model.compile({ optimizer: tf.train.adam(3e-4), loss: sparseCrossEntropyFromLogits });
const xs = tf.randomUniform([batch, T], 0, V, "int32");
const ys = tf.randomUniform([batch, T, 1], 0, V, "int32");
await model.trainOnBatch(xs, ys); // warm-up: kernels, optimizer slots
const rateBefore = matmulRate(1024, 1024, 1024);
const times = [];
for (let i = 0; i < steps; i++) {
  const t = performance.now();
  await model.trainOnBatch(xs, ys);
  times.push(performance.now() - t);
}
const rateAfter = matmulRate(1024, 1024, 1024);
const headRate = matmulRate(batch * T, C, V, 2);
const stepMs = Math.min(...times);
const tokensPerSecond = (batch * T) / (stepMs / 1000);
const matmulGflops = Math.max(rateBefore, rateAfter);
const achievedGflops = (tokensPerSecond * trainFlopsPerToken) / 1e9;

// TokenEmbedding backward at GPT vocabulary: 512 tokens through a 50,257 x 64 table.
const emb = new TokenEmbedding({ vocabSize: V, embeddingDim: C });
const ids = tf.randomUniform([1, 512], 0, V, "int32");
emb.apply(ids);
const embTimes = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const { value, grads } = tf.variableGrads(() => tf.sum(emb.apply(ids)));
  Object.values(grads)[0].dataSync();
  embTimes.push(performance.now() - t);
  tf.dispose([value, ...Object.values(grads)]);
}

console.log(
  JSON.stringify({
    backend,
    preset: "tiny",
    batch,
    context: T,
    stepMs: Math.round(stepMs),
    stepMsAll: times.map(Math.round),
    tokensPerSecond: Math.round(tokensPerSecond),
    trainMflopsPerToken: +(trainFlopsPerToken / 1e6).toFixed(2),
    achievedGflops: +achievedGflops.toFixed(2),
    matmulGflops1024: +matmulGflops.toFixed(2),
    headMatmulGflops: +headRate.toFixed(2),
    percentOfMatmul: +((100 * achievedGflops) / matmulGflops).toFixed(1),
    embeddingBackward512TokensMs: Math.round(Math.min(...embTimes)),
  }),
);
