// Row 6: greedy generation with the gpt2 (124M) shape, loaded from the safetensors file that
// bench/generation_hf.py saved (random weights, the same ones transformers generates with).
// argv[2] JSON: {backend, dir, prompt, newTokens, reps, uncachedReps}
// Measures: fromPretrained time (config.json + 498 MB model.safetensors), tokens/s of `generate`
// with the KV cache and without it (the whole window re-run per token), the ids generated.
import { existsSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { childArgs, sendResult } from "../lib/child.js";
import { errorText, importOurs, measurement, timeReps } from "../lib/stats.js";
import { setupBackend } from "../lib/tf-backend.js";

const { backend, dir, prompt, newTokens, reps, uncachedReps } = childArgs();
const be = await setupBackend(backend);

let result;
try {
  if (!existsSync(`${dir}/model.safetensors`)) throw new Error(`not available: ${dir} was not written (the transformers job did not run)`);
  const { fromPretrained } = await importOurs("@tfgpt/layers/node");
  const { generate } = await importOurs("@tfgpt/layers");
  const loadMs = [];
  let model;
  for (let i = 0; i < 2; i++) {
    model?.dispose();
    const t0 = performance.now();
    model = await fromPretrained(dir);
    loadMs.push(performance.now() - t0);
  }
  const ids = Array.from({ length: prompt }, (_, i) => (i * 997) % 50257);
  const options = { maxNewTokens: newTokens, temperature: 0, stop: null };
  let out;
  const cached = (await timeReps(() => (out = generate(model, ids, options)), { reps, warmup: 1 })).map((ms) => (newTokens * 1000) / ms);
  const uncached = (await timeReps(() => generate(model, ids, { ...options, cache: false }), { reps: uncachedReps, warmup: 0 })).map(
    (ms) => (newTokens * 1000) / ms,
  );
  result = {
    measurements: {
      loadMs: measurement(loadMs, "ms"),
      cachedTokensPerSec: measurement(cached, "tokens/s"),
      uncachedTokensPerSec: measurement(uncached, "tokens/s"),
    },
    ids: out,
    rssMB: process.memoryUsage().rss / 2 ** 20,
    numTensors: tf.memory().numTensors,
  };
  model.dispose();
} catch (err) {
  const error = errorText(err);
  result = { measurements: { loadMs: { error }, cachedTokensPerSec: { error }, uncachedTokensPerSec: { error } } };
}
sendResult({ impl: "ours", backend: be, prompt, newTokens, ...result });
