// Row 2: dataset build time and memory, batches/s when iterating, the pipeline's share of a step.
// Modes (argv[2] JSON): {mode:"build", impl:"v1"|"ours", maxLength, stride, reps}
//                       {mode:"iterate", impl, maxLength, stride, batchSize, batches, reps}
//                       {mode:"pipeline", backend, steps}
// Run with --expose-gc so memory deltas are measured after a full collection.
import { childArgs, sendResult } from "../lib/child.js";
import { readCorpus } from "../lib/data.js";
import { GPTDatasetV1, loaderV1 } from "../lib/gpt-dataset-v1.js";
import { importOurs, measurement, now, timeReps } from "../lib/stats.js";

/** Frankenstein's gpt2 ids from the reference tokenizer, as number[] (what a JS port gets). */
async function frankensteinIds() {
  const { getEncoding } = await import("js-tiktoken");
  return getEncoding("gpt2").encode(readCorpus("pg84.txt"));
}

function gc() {
  if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
  globalThis.gc();
  globalThis.gc();
}

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, buffers: m.arrayBuffers + m.external };
}

async function builder(impl, maxLength, stride) {
  if (impl === "v1") return (ids) => new GPTDatasetV1(ids, maxLength, stride);
  const { GPTDataset } = await importOurs("@tfgpt/datasets");
  return (ids) => new GPTDataset(ids, { maxLength, stride });
}

function datasetLength(ds) {
  return typeof ds.length === "number" ? ds.length : ds.size;
}

async function build({ impl, maxLength, stride, reps }) {
  const numbers = await frankensteinIds();
  const ids = impl === "v1" ? numbers : Int32Array.from(numbers);
  const make = await builder(impl, maxLength, stride);
  gc();
  const before = memory();
  const t0 = now();
  let ds = make(ids);
  const firstMs = now() - t0;
  gc();
  const after = memory();
  const windows = datasetLength(ds);
  ds = null;
  gc();
  // The timed builds come after the first (cold) one, which is reported on its own.
  const ms = await timeReps(() => {
    make(ids);
  }, { reps, warmup: 0 });
  return {
    impl,
    maxLength,
    stride,
    tokens: numbers.length,
    windows,
    measurements: {
      buildMs: measurement(ms, "ms"),
      firstBuildMs: firstMs,
      heapDeltaMB: (after.heap + after.buffers - before.heap - before.buffers) / 2 ** 20,
      rssDeltaMB: (after.rss - before.rss) / 2 ** 20,
    },
  };
}

async function iterate({ impl, maxLength, stride, batchSize, batches, reps }) {
  const numbers = await frankensteinIds();
  let epoch;
  if (impl === "v1") {
    const ds = new GPTDatasetV1(numbers, maxLength, stride);
    epoch = () => loaderV1(ds, { batchSize, seed: 1 });
  } else {
    const { GPTDataset, DataLoader } = await importOurs("@tfgpt/datasets");
    const ds = new GPTDataset(Int32Array.from(numbers), { maxLength, stride });
    // A fresh loader per pass, as the V1 side builds a fresh shuffled loader: a DataLoader's
    // iterator resumes where the last pass stopped, and one epoch may hold fewer batches than
    // several passes take.
    epoch = () => new DataLoader(ds, { batchSize, shuffle: true, seed: 1, dropLast: true })[Symbol.iterator]();
  }
  let sink = 0;
  const run = () => {
    const it = epoch();
    for (let i = 0; i < batches; i++) {
      const r = it.next();
      if (r.done) throw new Error(`the epoch has only ${i} batches, asked for ${batches}`);
      sink += firstValue(r.value);
    }
  };
  const ms = await timeReps(run, { reps, warmup: 1 });
  return {
    impl,
    maxLength,
    stride,
    batchSize,
    batches,
    sink,
    measurements: { batchesPerSec: measurement(ms.map((t) => batches / (t / 1000)), "batches/s") },
  };
}

/** Touches a batch so no engine can skip building it: first input id, whatever the batch shape. */
function firstValue(batch) {
  const xs = batch.xs ?? batch.inputs ?? batch.x ?? batch[0];
  if (xs === undefined) return 0;
  if (ArrayBuffer.isView(xs)) return xs[0];
  if (Array.isArray(xs)) return Array.isArray(xs[0]) || ArrayBuffer.isView(xs[0]) ? xs[0][0] : xs[0];
  return 0;
}

async function pipeline({ backend, steps, fetches }) {
  const tf = await import("@tensorflow/tfjs");
  const { setupBackend } = await import("../lib/tf-backend.js");
  const be = await setupBackend(backend);
  const { GPTDataset, DataLoader } = await importOurs("@tfgpt/datasets");
  const layers = await importOurs("@tfgpt/layers");
  const numbers = await frankensteinIds();
  const model = layers.createGPT(layers.GPT_PRESETS?.tiny ?? "tiny");
  const cfg = { batchSize: 8, context: 64 };
  const ds = new GPTDataset(Int32Array.from(numbers), { maxLength: cfg.context, stride: cfg.context });
  const loader = new DataLoader(ds, { batchSize: cfg.batchSize, shuffle: true, seed: 1, dropLast: true });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: layers.sparseCrossEntropyFromLogits });
  // Data side: fetch a batch and turn it into the two int32 tensors a step consumes.
  let it = loader[Symbol.iterator]();
  const fetchOne = () => {
    let r = it.next();
    if (r.done) {
      it = loader[Symbol.iterator]();
      r = it.next();
    }
    const b = r.value;
    const xs = tf.tensor2d(b.xs ?? b.inputs, [cfg.batchSize, cfg.context], "int32");
    const ys = tf.tensor3d(b.ys ?? b.targets, [cfg.batchSize, cfg.context, 1], "int32"); // Keras wants [B, T, 1] labels
    return { xs, ys };
  };
  const dataMs = [];
  for (let i = 0; i < fetches + 5; i++) {
    const t0 = now();
    const { xs, ys } = fetchOne();
    const dt = now() - t0;
    xs.dispose();
    ys.dispose();
    if (i >= 5) dataMs.push(dt);
  }
  const { xs, ys } = fetchOne();
  const stepMs = await timeReps(async () => {
    await model.trainOnBatch(xs, ys);
  }, { reps: steps, warmup: 2 });
  const data = measurement(dataMs, "ms");
  const step = measurement(stepMs, "ms");
  return { backend: be, measurements: { dataMs: data, stepMs: step, share: data.median / step.median } };
}

const args = childArgs();
const modes = { build, iterate, pipeline };
sendResult(await modes[args.mode](args));
