// `npm run bench`: runs every benchmark row in its own child process (bench/lib/plan.js), then
// writes docs/BENCHMARKS.md and docs/bench-throughput.svg. Raw results go to bench/out/.
//
// usage: node bench/run.js [--quick] [--only tokenizer,dataset,embedding,training,torch,generation,browser]
//                          [--out FILE]   (default: docs/BENCHMARKS.md, or bench/out/ for --quick)
//                          [--from bench/out/results.json]  (re-render a saved run, run nothing)
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runChild } from "./lib/child.js";
import { repoRoot } from "./lib/data.js";
import { machineInfo } from "./lib/machine.js";
import { plan } from "./lib/plan.js";
import { benchPython } from "./lib/python.js";
import { renderReport, torchBest } from "./lib/report.js";
import { throughputSvg } from "./lib/svg.js";

const GROUPS = ["tokenizer", "dataset", "embedding", "training", "torch", "generation", "browser"];

function parseArgs(argv) {
  const opts = { quick: false, only: GROUPS, out: undefined, from: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") opts.quick = true;
    else if (a.startsWith("--only")) opts.only = value().split(",");
    else if (a.startsWith("--out")) opts.out = value();
    else if (a.startsWith("--from")) opts.from = value();
    else if (a === "--help" || a === "-h") {
      console.log("usage: node bench/run.js [--quick] [--only tokenizer,dataset,embedding,training,torch,generation,browser] [--out FILE] [--from results.json]");
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  const bad = opts.only.filter((g) => !GROUPS.includes(g));
  if (bad.length) throw new Error(`--only: unknown group ${bad.join(", ")}; allowed: ${GROUPS.join(", ")}`);
  return opts;
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function chartPanels(results) {
  const m = (id, key) => {
    const r = results[id];
    if (r === undefined) return { note: "not run" };
    if (!r.ok) return { note: r.timedOut ? `> ${r.limitS} s, stopped` : "fails" };
    const x = r.result.measurements?.[key];
    if (x === undefined || x.error !== undefined) return { note: x?.error?.startsWith("not available") ? "not available" : "fails" };
    return { value: x.median };
  };
  const tok = (id) => [
    { label: "ours", kind: "ours", ...m(id, "ours") },
    { label: "gpt-tokenizer", kind: "baseline", ...m(id, "gpt-tokenizer") },
    { label: "tiktoken (wasm)", kind: "baseline", ...m(id, "tiktoken (wasm)") },
    { label: "js-tiktoken", kind: "baseline", ...m(id, "js-tiktoken") },
  ];
  const train = [];
  for (const [b, label] of [["wasm", "wasm, threads"], ["wasm-1", "wasm, 1 thread"], ["cpu", "cpu"], ["tensorflow", "tensorflow"]]) {
    train.push({ label: `ours, ${label}`, kind: "ours", ...m(`train-ours-${b}`, "tokensPerSec") });
    train.push({ label: `stock tfjs, ${label}`, kind: "baseline", ...m(`train-stock-${b}`, "tokensPerSec") });
  }
  const best = torchBest(results);
  const torchSkipped = results["torch-1"]?.result?.skipped;
  train.push({ label: `PyTorch${best ? `, ${best.threads} thread${best.threads === 1 ? "" : "s"}` : ""}`, kind: "reference", value: best?.median, note: torchSkipped ? "skipped" : "not run" });
  return [
    { title: "gpt2 encode, Frankenstein repeated", unit: "MB/s", bars: tok("tok-frankenstein") },
    { title: "gpt2 encode, seeded text mix", unit: "MB/s", bars: tok("tok-mix") },
    { title: "tiny GPT training, batch 8 × 64", unit: "tokens/s", bars: train },
  ];
}

function backendsUsed(results) {
  const seen = new Map();
  for (const r of Object.values(results)) {
    const b = r.ok ? r.result.backend : undefined;
    if (b && typeof b === "object") {
      const label = `${b.kind} → ${b.backend}${b.backend === "wasm" ? ` with ${b.threads} thread(s)` : ""} via ${b.via}${b.note ? ` (${b.note})` : ""}`;
      seen.set(label, true);
    }
  }
  return [...seen.keys()];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let startedAt = new Date();
  let wallS;
  let results = {};
  if (opts.from !== undefined) {
    const saved = JSON.parse(readFileSync(path.resolve(opts.from), "utf8"));
    ({ results, wallS } = saved);
    startedAt = new Date(saved.startedAt);
    opts.quick = saved.mode === "quick";
  } else {
    const t0 = performance.now();
    // The venv (torch 2.13 + transformers) only when a selected group runs Python.
    const py = opts.only.some((g) => g === "torch" || g === "generation") ? benchPython(log) : {};
    if (py.note) log(`bench: Python rows use ${py.note}`);
    const jobs = plan(opts.quick, { python: py.python, pythonSkip: py.python ? undefined : py.note }).filter((j) => opts.only.includes(j.group));
    log(`bench: ${jobs.length} jobs (${opts.quick ? "quick" : "full"}), groups ${opts.only.join(", ")}`);
    for (const [i, j] of jobs.entries()) {
      log(`[${i + 1}/${jobs.length}] ${j.id} (limit ${j.limitS} s) ...`);
      if (j.skip !== undefined) {
        results[j.id] = { ok: true, result: { skipped: j.skip }, seconds: 0, limitS: j.limitS };
        log(`    skipped: ${j.skip}`);
        continue;
      }
      const r = await runChild(j.command, j.argv, { timeoutMs: j.limitS * 1000, env: j.env, log, cwd: repoRoot });
      results[j.id] = { ...r, limitS: j.limitS };
      log(`    ${r.ok ? "done" : `FAILED: ${r.error}`} in ${r.seconds.toFixed(1)} s`);
    }
    wallS = (performance.now() - t0) / 1000;
  }
  const machine = machineInfo();
  const outDir = path.join(repoRoot, "bench/out");
  mkdirSync(outDir, { recursive: true });
  if (opts.from === undefined) {
    const mode = opts.quick ? "quick" : "full";
    writeFileSync(path.join(outDir, `results.${mode}.json`), JSON.stringify({ startedAt, wallS, mode, machine, results }, null, 2));
  }
  const md = opts.out ?? (opts.quick ? "bench/out/BENCHMARKS.md" : "docs/BENCHMARKS.md");
  const mdPath = path.resolve(repoRoot, md);
  mkdirSync(path.dirname(mdPath), { recursive: true });
  const report = renderReport({ results, machine, mode: opts.quick ? "quick" : "full", startedAt, wallS, backends: backendsUsed(results) });
  writeFileSync(mdPath, report);
  const svgPath = path.join(path.dirname(mdPath), "bench-throughput.svg");
  writeFileSync(svgPath, throughputSvg(chartPanels(results), { title: `tfgpt throughput, ${machine.cores} cores, ${machine.cpu}` }));
  log(`bench: wrote ${path.relative(repoRoot, mdPath)} and ${path.relative(repoRoot, svgPath)} in ${(wallS / 60).toFixed(1)} min`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
