// Backend set-up for the tfjs rows: our selectBackend when @tfgpt/layers/node is built, else tfjs's own.
import * as tf from "@tensorflow/tfjs";
import { errorText, importOurs } from "./stats.js";

/**
 * Activates `kind` ("cpu", "wasm" = as many threads as selectBackend gives, "wasm-1" = one
 * thread, "tensorflow" = @tensorflow/tfjs-node through selectBackend) and says what it got:
 * { backend, threads, via, note }.
 * Without @tfgpt/layers/node, "wasm" falls back to tfjs's single-threaded wasm and says so;
 * "tensorflow" throws where tfjs-node is not installed (npm run setup:tensorflow).
 */
export async function setupBackend(kind) {
  if (kind === "tensorflow") {
    const layersNode = await importOurs("@tfgpt/layers/node");
    const report = await layersNode.selectBackend({ prefer: "tensorflow" });
    await tf.ready();
    return { kind, backend: tf.getBackend(), threads: report.threads, via: "selectBackend", note: report.description, report: summarizeReport(report) };
  }
  const wantWasm = kind.startsWith("wasm");
  const threads = kind === "wasm-1" ? 1 : undefined;
  let via = "tfjs";
  let note = "";
  let report;
  if (wantWasm) {
    try {
      const layersNode = await importOurs("@tfgpt/layers/node");
      if (typeof layersNode.selectBackend !== "function") throw new Error("selectBackend is not exported yet");
      const opts = { prefer: "wasm" };
      if (threads !== undefined) opts.threads = threads;
      report = await layersNode.selectBackend(opts);
      via = "selectBackend";
    } catch (err) {
      note = `selectBackend unavailable (${errorText(err)}); tfjs's own wasm, 1 thread`;
    }
  }
  if (via === "tfjs") {
    if (wantWasm) await import("@tensorflow/tfjs-backend-wasm");
    const ok = await tf.setBackend(wantWasm ? "wasm" : "cpu");
    if (!ok) throw new Error(`tf.setBackend(${kind}) failed`);
  }
  await tf.ready();
  let nThreads = 1;
  if (typeof report?.threads === "number") nThreads = report.threads;
  else if (tf.getBackend() === "wasm") {
    try {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      nThreads = wasm.getThreadsCount();
    } catch {
      nThreads = NaN;
    }
  }
  if (report?.description && !note) note = report.description;
  return { kind, backend: tf.getBackend(), threads: nThreads, via, note, report: summarizeReport(report) };
}

function summarizeReport(report) {
  if (report === undefined || report === null) return undefined;
  try {
    return JSON.parse(JSON.stringify(report));
  } catch {
    return String(report);
  }
}

/**
 * Matmul throughput on the active backend: C = A[n,k] x B[k,m], plain flags, median of `reps`
 * after a warm-up. Returns GFLOP/s samples (2*n*k*m / seconds).
 */
export function matmulGflops(n, k, m, reps) {
  const a = tf.randomNormal([n, k]);
  const b = tf.randomNormal([k, m]);
  const run = () => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const dt = performance.now() - t0;
    c.dispose();
    return dt;
  };
  run();
  const out = [];
  for (let i = 0; i < reps; i++) out.push((2 * n * k * m) / (run() / 1000) / 1e9);
  a.dispose();
  b.dispose();
  return out;
}
