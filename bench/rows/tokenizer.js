// Row 1: gpt2 encode throughput (MB/s), the pathological run of one letter, parallel encode.
// Modes (argv[2] JSON): {mode:"throughput", input:"frankenstein"|"mix", bytes, reps}
//                       {mode:"pathological", impl, letters, reps}
//                       {mode:"parallel", bytes, reps, workers}
import { childArgs, sendResult } from "../lib/child.js";
import { readCorpus, repeatToBytes, textMix, utf8Bytes } from "../lib/data.js";
import { errorText, importOurs, measurement, roundRobin, timeReps } from "../lib/stats.js";

/** Loaders for each implementation: each returns (text) => ids (array-like). */
const LOADERS = {
  "js-tiktoken": async () => {
    const { getEncoding } = await import("js-tiktoken");
    const enc = getEncoding("gpt2");
    return (text) => enc.encode(text);
  },
  "gpt-tokenizer": async () => {
    const { encode } = await import("gpt-tokenizer/encoding/gpt2");
    return (text) => encode(text);
  },
  "tiktoken (wasm)": async () => {
    const { default: tiktoken } = await import("tiktoken");
    const enc = tiktoken.get_encoding("gpt2");
    return (text) => enc.encode(text);
  },
  ours: async () => {
    const { getTokenizer } = await importOurs("@tfgpt/tokenizers");
    const tok = getTokenizer("gpt2");
    return (text) => tok.encode(text);
  },
};

/** First index where two id sequences differ, or -1 when equal (lengths included). */
function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

async function loadAll(names) {
  const fns = {};
  const errors = {};
  for (const name of names) {
    try {
      fns[name] = await LOADERS[name]();
    } catch (err) {
      errors[name] = errorText(err);
    }
  }
  return { fns, errors };
}

async function throughput({ input, bytes, reps }) {
  const text = input === "mix" ? textMix(bytes) : repeatToBytes(readCorpus("pg84.txt"), bytes);
  const size = utf8Bytes(text);
  const { fns, errors } = await loadAll(Object.keys(LOADERS));
  const measurements = {};
  for (const [name, error] of Object.entries(errors)) measurements[name] = { error: `not available: ${error}` };
  // Equality with the reference on the whole input (this is also everyone's warm-up call).
  const checks = {};
  let reference;
  if (fns["js-tiktoken"]) reference = Array.from(fns["js-tiktoken"](text));
  for (const [name, fn] of Object.entries(fns)) {
    if (name === "js-tiktoken" || reference === undefined) continue;
    try {
      const ids = Array.from(fn(text));
      const at = firstDifference(ids, reference);
      checks[name] = at === -1 ? `equal (${ids.length} ids)` : `DIFFERS at id ${at} (${ids.length} vs ${reference.length} ids)`;
    } catch (err) {
      checks[name] = `fails: ${errorText(err)}`;
    }
  }
  const contenders = {};
  for (const [name, fn] of Object.entries(fns)) contenders[name] = () => fn(text);
  const times = await roundRobin(contenders, { reps, warmup: 0 });
  for (const [name, ms] of Object.entries(times)) {
    measurements[name] = Array.isArray(ms)
      ? measurement(ms.map((t) => size / 1e6 / (t / 1000)), "MB/s", { ms: measurement(ms, "ms") })
      : { error: `fails: ${ms.error}` };
  }
  return { input, bytes: size, tokens: reference?.length, checks, measurements };
}

async function pathological({ impl, letters, reps }) {
  const fn = await LOADERS[impl]();
  const text = "a".repeat(letters);
  const ms = await timeReps(() => fn(text), { reps, warmup: 0 });
  return { impl, letters, measurements: { [impl]: measurement(ms, "ms") } };
}

async function parallel({ bytes, reps, workers }) {
  const text = repeatToBytes(readCorpus("pg84.txt"), bytes);
  const size = utf8Bytes(text);
  const { getTokenizer } = await importOurs("@tfgpt/tokenizers");
  const node = await importOurs("@tfgpt/tokenizers/node");
  const tok = getTokenizer("gpt2");
  // A warm pool (workers started and ranks loaded once) is the steady state; the one-shot
  // encodeParallel call includes starting and stopping the workers.
  const pool = new node.ParallelEncoder({ encoding: "gpt2", workers });
  const contenders = {
    single: () => tok.encode(text),
    parallel: () => pool.encode(text),
    oneShot: () => node.encodeParallel(text, { encoding: "gpt2", workers }),
  };
  const a = Array.from(contenders.single());
  const b = Array.from(await contenders.parallel());
  const at = firstDifference(a, b);
  const check = at === -1 ? `equal (${a.length} ids)` : `DIFFERS at id ${at}`;
  const times = await roundRobin(contenders, { reps, warmup: 0 });
  await pool.close();
  const measurements = {};
  for (const [name, ms] of Object.entries(times)) {
    measurements[name] = Array.isArray(ms) ? measurement(ms.map((t) => size / 1e6 / (t / 1000)), "MB/s") : { error: `fails: ${ms.error}` };
  }
  return { bytes: size, workers, check, measurements };
}

const args = childArgs();
const modes = { throughput, pathological, parallel };
sendResult(await modes[args.mode](args));
