#!/usr/bin/env node
/**
 * Throughput of ParallelEncoder against the single-threaded encoder on Frankenstein x N.
 * Usage (after `npx tsc -b`): node scripts/parallel-speedup.mjs [copies=20] [workers=2] [rounds=5]
 * Rounds alternate single / parallel so that background load hits both alike; medians are reported.
 * Each round also times a pure CPU loop on this thread against the same loop split over `workers`
 * threads ("machineScaling"): on shared cores that bounds what any parallel encoder can reach.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { getTokenizer } from "../dist/index.js";
import { encodeParallel, ParallelEncoder, readTextSync } from "../dist/node.js";

const [copies = 20, workers = 2, rounds = 5] = process.argv.slice(2).map(Number);
const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TFGPT_DATA_DIR ?? path.resolve(here, "../../../../shared/data");
const text = readTextSync(path.join(dataDir, "pg84.txt")).repeat(copies);
const mb = new TextEncoder().encode(text).length / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn) => {
  const start = performance.now();
  const result = await fn();
  return [(performance.now() - start) / 1000, result];
};

const tok = getTokenizer("gpt2");
const [, reference] = await time(() => tok.encode(text)); // warm-up (rank load, JIT, cache)
const pool = new ParallelEncoder({ encoding: "gpt2", workers });
await pool.encode(text); // warm-up: workers started, ranks loaded
// The CPU loop, run here and in `workers` threads (a worker from source text, no file needed).
const SPIN = "const spin = (n) => { let x = 0; for (let i = 0; i < n; i++) x = (x + Math.imul(i, 2654435761)) | 0; return x; };";
const spin = new Function(`${SPIN} return spin;`)();
const spinners = Array.from({ length: workers }, () => new Worker(`${SPIN} require("node:worker_threads").parentPort.on("message", (n) => require("node:worker_threads").parentPort.postMessage(spin(n)));`, { eval: true }));
const spinAll = (n) => Promise.all(spinners.map((w) => new Promise((resolve) => { w.once("message", resolve); w.postMessage(n); })));
await spinAll(1e6);
const SPIN_N = 2e8;
const single = [];
const parallel = [];
const spinSingle = [];
const spinParallel = [];
for (let r = 0; r < rounds; r++) {
  spinSingle.push((await time(() => spin(SPIN_N)))[0]);
  spinParallel.push((await time(() => spinAll(SPIN_N / workers)))[0]);
  single.push((await time(() => tok.encode(text)))[0]);
  const [seconds, ids] = await time(() => pool.encode(text));
  parallel.push(seconds);
  if (ids.length !== reference.length || ids.some((id, i) => id !== reference[i])) throw new Error("parallel ids differ");
}
await pool.close();
await Promise.all(spinners.map((w) => w.terminate()));
const [oneShot] = await time(() => encodeParallel(text, { encoding: "gpt2", workers }));
const s = median(single);
const p = median(parallel);
console.log(
  JSON.stringify(
    {
      input: `pg84 x ${copies} (${mb.toFixed(1)} MB, ${reference.length} ids)`,
      workers,
      singleMBps: +(mb / s).toFixed(2),
      parallelMBps: +(mb / p).toFixed(2),
      speedup: +(s / p).toFixed(2),
      machineScaling: +(median(spinSingle) / median(spinParallel)).toFixed(2),
      oneShotSpeedup: +(s / oneShot).toFixed(2),
      singleSeconds: single.map((x) => +x.toFixed(3)),
      parallelSeconds: parallel.map((x) => +x.toFixed(3)),
      cpus: (await import("node:os")).availableParallelism(),
      loadavg: (await import("node:os")).loadavg().map((x) => +x.toFixed(2)),
    },
    null,
    2,
  ),
);
