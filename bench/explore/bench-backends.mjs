// Matmul GFLOP/s per backend: wasm on 1 thread, wasm on every core (the threaded shim), cpu.
// Each configuration runs in its own Node process (tfjs keeps one backend instance per process).
// usage: npm run build -w @tfgpt/layers && node bench/explore/bench-backends.mjs [--rounds N] [--reps N] [--threads N]
import { spawnSync } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";

const SHAPES = [
  { name: "1024x1024 @ 1024x1024", a: [1024, 1024], b: [1024, 1024] },
  { name: "tiny-GPT head 512x64 @ 64x50257", a: [512, 64], b: [64, 50257] },
];

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function child(prefer, threads, reps) {
  const tf = await import("@tensorflow/tfjs");
  const { selectBackend } = await import("@tfgpt/layers/node");
  const selection = await selectBackend({ prefer, threads });
  const rows = [];
  for (const shape of SHAPES) {
    const a = tf.randomNormal(shape.a, 0, 1, "float32", 1);
    const b = tf.randomNormal(shape.b, 0, 1, "float32", 2);
    const flops = 2 * shape.a[0] * shape.a[1] * shape.b[1];
    const times = [];
    for (let i = 0; i < reps + 1; i++) {
      const start = performance.now();
      const c = tf.matMul(a, b);
      c.dataSync();
      if (i > 0) times.push(performance.now() - start); // the first run warms up
      c.dispose();
    }
    times.sort((x, y) => x - y);
    const median = times[Math.floor(times.length / 2)];
    const best = times[0];
    rows.push({ shape: shape.name, ms: median, gflops: flops / (median / 1000) / 1e9, bestGflops: flops / (best / 1000) / 1e9 });
    a.dispose();
    b.dispose();
  }
  console.log(JSON.stringify({ description: selection.description, threads: selection.threads, rows }));
}

async function main() {
  const reps = arg("--reps", 5);
  const rounds = arg("--rounds", 3);
  const all = arg("--threads", os.availableParallelism());
  const configs = [
    { label: "wasm, 1 thread", prefer: "wasm", threads: 1 },
    { label: `wasm, ${all} threads`, prefer: "wasm", threads: all },
    { label: "cpu", prefer: "cpu", threads: 1 },
  ];
  const load = () => os.loadavg().map((x) => x.toFixed(1)).join(" ");
  console.log(`node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "?"}), load ${load()}`);
  console.log(`${rounds} rounds (configurations interleaved, each in a fresh process), ${reps} timed runs each after a warm-up`);
  const results = new Map(); // label -> { threads, rows: Map(shape -> {medians, bests}) }
  for (let round = 0; round < rounds; round++) {
    for (const config of configs) {
      const childReps = config.prefer === "cpu" ? 1 : reps; // cpu takes seconds per run
      if (config.prefer === "cpu" && round > 0) continue;
      const run = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), "--child", config.prefer, String(config.threads), "--reps", String(childReps)],
        { encoding: "utf8", timeout: 600_000 },
      );
      if (run.status !== 0) {
        console.log(`${config.label} failed: ${(run.stderr || String(run.signal)).split("\n")[0]}`);
        continue;
      }
      const result = JSON.parse(run.stdout.trim().split("\n").at(-1));
      const entry = results.get(config.label) ?? { threads: result.threads, rows: new Map() };
      for (const row of result.rows) {
        const agg = entry.rows.get(row.shape) ?? { medians: [], bests: [] };
        agg.medians.push(row.gflops);
        agg.bests.push(row.bestGflops);
        entry.rows.set(row.shape, agg);
      }
      results.set(config.label, entry);
    }
  }
  console.log(`load at the end ${load()}`);
  console.log("| backend | threads | shape | GFLOP/s (median) | GFLOP/s (best) |\n|---|---|---|---|---|");
  for (const [label, entry] of results) {
    for (const [shape, agg] of entry.rows) {
      const sorted = [...agg.medians].sort((x, y) => x - y);
      const median = sorted[Math.floor(sorted.length / 2)];
      console.log(`| ${label} | ${entry.threads} | ${shape} | ${median.toFixed(1)} | ${Math.max(...agg.bests).toFixed(1)} |`);
    }
  }
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) await child(process.argv[childAt + 1], Number(process.argv[childAt + 2]), arg("--reps", 5));
else await main();
