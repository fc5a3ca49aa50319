// Row 3: one forward+backward pass of an embedding lookup at GPT-2's vocabulary.
// argv[2] JSON: {impl:"stock"|"ours", backend:"cpu"|"wasm"|"wasm-1", vocab, tokens, dim, reps, warmup}
// The gradient is taken with respect to the table (the expensive part: tfjs's stock gradient is
// an UnsortedSegmentSum over the whole vocabulary).
import * as tf from "@tensorflow/tfjs";
import { childArgs, sendResult } from "../lib/child.js";
import { mulberry32 } from "../lib/rng.js";
import { errorText, importOurs, measurement, timeReps } from "../lib/stats.js";
import { setupBackend } from "../lib/tf-backend.js";

const { impl, backend, vocab, tokens, dim, reps, warmup } = childArgs();
const be = await setupBackend(backend);

async function makeLayer() {
  if (impl === "stock") return tf.layers.embedding({ inputDim: vocab, outputDim: dim });
  const { TokenEmbedding } = await importOurs("@tfgpt/layers");
  return new TokenEmbedding({ vocabSize: vocab, embeddingDim: dim });
}

let result;
try {
  const layer = await makeLayer();
  const rand = mulberry32(3);
  const idValues = Int32Array.from({ length: tokens }, () => Math.floor(rand() * vocab));
  // A few repeated ids on purpose: the gradient must add them up.
  idValues[1] = idValues[0];
  const ids = tf.tensor2d(idValues, [tokens / 64, 64], "int32");
  const dy = tf.randomNormal([tokens / 64, 64, dim], 0, 1, "float32", 5);
  layer.apply(ids); // builds the table
  const table = layer.trainableWeights[0].read();
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(ids), dy)), [table]);
    const g = grads[table.name];
    g.dataSync();
    tf.dispose([value, g]);
  };
  const ms = await timeReps(step, { reps, warmup });
  result = { measurements: { backwardMs: measurement(ms, "ms") } };
} catch (err) {
  result = { measurements: { backwardMs: { error: `fails: ${errorText(err)}` } } };
}
sendResult({ impl, backend: be, vocab, tokens, dim, ...result });
