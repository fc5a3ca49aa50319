// Tokens/s of one training step of the `tiny` GPT preset (batch 8, context 64, Adam) next to the
// backend's plain matmul rate, measured in the same process. Run after `npx tsc -b`:
//   node scripts/bench-tiny.mjs [wasm|cpu] [steps] [train|embedding]
// Prints one JSON line. Not a test: timings depend on the machine and its load, so the matmul
// rate is measured right before and after every step and each step is compared with its own.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import "../dist/register.js";
import { createGPT, GPT_PRESETS } from "../dist/gpt.js";
import { sparseCrossEntropyFromLogits } from "../dist/losses.js";
import { TokenEmbedding } from "../dist/token-embedding.js";

const backend = process.argv[2] ?? "wasm";
const steps = Number(process.argv[3] ?? 5);
const what = process.argv[4] ?? "train";
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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = { backend, preset: "tiny", batch, context: T, trainMflopsPerToken: +(trainFlopsPerToken / 1e6).toFixed(2) };
if (what === "train") {
  const model = createGPT(config);
  model.compile({ optimizer: tf.train.adam(3e-4), loss: sparseCrossEntropyFromLogits });
  const xs = tf.randomUniform([batch, T], 0, V, "int32");
  const ys = tf.randomUniform([batch, T, 1], 0, V, "int32");
  await model.trainOnBatch(xs, ys); // warm-up: kernels, optimizer slots
  const stepMs = [];
  const rates = [];
  const percents = [];
  for (let i = 0; i < steps; i++) {
    const before = matmulRate(1024, 1024, 1024, 2);
    const t = performance.now();
    await model.trainOnBatch(xs, ys);
    const ms = performance.now() - t;
    const after = matmulRate(1024, 1024, 1024, 2);
    const rate = (before + after) / 2;
    const achieved = ((batch * T) / (ms / 1000)) * trainFlopsPerToken / 1e9;
    stepMs.push(ms);
    rates.push(rate);
    percents.push((100 * achieved) / rate);
  }
  const best = Math.min(...stepMs);
  Object.assign(result, {
    stepMsBest: Math.round(best),
    stepMsMedian: Math.round(median(stepMs)),
    tokensPerSecondBest: Math.round((batch * T) / (best / 1000)),
    tokensPerSecondMedian: Math.round((batch * T) / (median(stepMs) / 1000)),
    matmulGflops1024Median: +median(rates).toFixed(2),
    headMatmulGflops: +matmulRate(batch * T, C, V, 2).toFixed(2),
    percentOfMatmulMedian: +median(percents).toFixed(1),
    percentOfMatmulBest: +Math.max(...percents).toFixed(1),
  });
}

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

result.embeddingBackward512TokensMs = Math.round(Math.min(...embTimes));
console.log(JSON.stringify(result));
