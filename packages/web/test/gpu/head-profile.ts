/**
 * Runs in the page of test/gpu/index.html (driven by scripts/profile-head.mjs): times the fused
 * vocabulary head + cross-entropy (`headCrossEntropy`, forward and backward) on one tfjs backend,
 * and the same matrix multiplications alone, so that what a custom kernel could still save is
 * measured: everything of the head that is not a GEMM (softmax, the loss's reductions and
 * gathers, the one-hot subtraction, the scaling) is `total - gemm`.
 *
 * On webgpu and webgl each path is timed twice: with the softmax cross-entropy on tfjs ops and on
 * our custom kernels (what they save is the difference).
 *
 * Each timing is the smallest of `repeats` runs after one warm-up (which compiles the shaders),
 * ended by reading one number of the last result: on webgpu and webgl that waits for every kernel
 * queued before it.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng } from "@tfgpt/common";
import { idsTensor } from "@tfgpt/layers";
import { gpuCrossEntropyBackend, headCrossEntropy, useGpuCrossEntropyKernels } from "@tfgpt/layers/internal";
import { initBackend, type BackendChoice, type BackendInfo } from "../../src/backend.js";

/** What `profileHead` is asked to time. */
export interface HeadProfileRequest {
  readonly backend: BackendChoice;
  /** Token rows N (batch x context). */
  readonly rows: number;
  /** Width C of the hidden states and of the tied table. */
  readonly dim: number;
  /** Vocabulary size V. */
  readonly vocab: number;
  /** Rows per chunk of the `"chunked"` path. */
  readonly chunkRows: number;
  readonly repeats: number;
}

/** Milliseconds of one path: the whole head forward + backward, and its GEMMs alone. */
export interface HeadPathTiming {
  readonly totalMs: number;
  readonly gemmMs: number;
  /** `(total - gemm) / total`: the share of the head outside its matrix multiplications. */
  readonly restShare: number;
}

/** One measured path of the head. */
export interface HeadProfileRow extends HeadPathTiming {
  readonly path: "tfjs" | "chunked";
  /** Whether its softmax cross-entropy ran on the custom GPU kernels (gpu-cross-entropy.ts) or on tfjs ops. */
  readonly kernels: boolean;
}

/** What `profileHead` reports: each path on tfjs ops, and on the custom kernels where the backend has them. */
export interface HeadProfile {
  readonly info: BackendInfo;
  readonly rows: HeadProfileRow[];
}

function uniform(count: number, seed: number, scale: number): Float32Array {
  const next = createRng(seed).uint32;
  return Float32Array.from({ length: count }, () => ((next() % 2001) / 1000 - 1) * scale);
}

/** The smallest wall time of `repeats` runs of `body` (after one warm-up), each ended by reading one value of what it returns. */
async function fastest(repeats: number, body: () => tf.Tensor[]): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r <= repeats; r++) {
    const start = performance.now();
    const outputs = body();
    const last = outputs[outputs.length - 1] as tf.Tensor;
    const one = tf.slice(tf.reshape(last, [-1]), [0], [1]);
    await one.data();
    const ms = performance.now() - start;
    tf.dispose([...outputs, one]);
    if (r > 0) best = Math.min(best, ms);
  }
  return best;
}

export async function profileHead(request: HeadProfileRequest): Promise<HeadProfile> {
  const info = await initBackend(request.backend);
  if (info.name !== request.backend && request.backend !== "auto") throw new Error(`asked for ${request.backend}, got ${info.name}: ${info.notes.join("; ")}`);
  const { rows: n, dim: c, vocab: v, chunkRows, repeats } = request;
  const h = tf.tensor2d(uniform(n * c, 1, 1), [n, c]);
  const w = tf.tensor2d(uniform(v * c, 2, 0.05), [v, c]);
  const labelValues = Int32Array.from(uniform(n, 3, 1), (x) => Math.floor(((x + 1) / 2) * (v - 1)));
  const labels = idsTensor(labelValues, [n]);
  // The transpose flags the head uses on GPU backends (a flagged matmul, no copy of the table).
  const flags = info.name !== "cpu" && info.name !== "wasm";
  const logitsOf = (x: tf.Tensor2D): tf.Tensor2D => (flags ? tf.matMul(x, w, false, true) : tf.matMul(x, tf.transpose(w))) as tf.Tensor2D;
  const gradsOf = (p: tf.Tensor2D, x: tf.Tensor2D) => [tf.matMul(p, w), flags ? tf.matMul(p, x, true, false) : tf.transpose(tf.matMul(tf.transpose(x), p))];
  try {
    const whole = (implementation: "tfjs" | "chunked") => () => {
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => headCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, labels, implementation, undefined, chunkRows))([h, w]);
      return [value, ...grads];
    };
    // The same GEMMs as each path: tfjs: logits, then dHidden = P W and dTable = P^T H; chunked:
    // per chunk the logits, and in the backward pass the logits again and the two gradient GEMMs.
    const gemmsTfjs = () =>
      tf.tidy(() => {
        const logits = logitsOf(h);
        return [logits, ...gradsOf(logits, h)];
      });
    const gemmsChunked = () =>
      tf.tidy(() => {
        const out: tf.Tensor[] = [];
        for (let start = 0; start < n; start += chunkRows) {
          const x = tf.slice(h, [start, 0], [Math.min(chunkRows, n - start), c]);
          out.push(tf.sum(logitsOf(x)));
          const again = logitsOf(x);
          out.push(...gradsOf(again, x));
        }
        return out;
      });
    const timing = async (path: "tfjs" | "chunked", gemms: () => tf.Tensor[]): Promise<HeadPathTiming> => {
      const totalMs = await fastest(repeats, whole(path));
      const gemmMs = await fastest(repeats, gemms);
      return { totalMs, gemmMs, restShare: (totalMs - gemmMs) / totalMs };
    };
    const rows: HeadProfileRow[] = [];
    for (const kernels of gpuCrossEntropyBackend() === null ? [false] : [false, true]) {
      useGpuCrossEntropyKernels(kernels);
      rows.push({ path: "tfjs", kernels, ...(await timing("tfjs", gemmsTfjs)) });
      rows.push({ path: "chunked", kernels, ...(await timing("chunked", gemmsChunked)) });
    }
    return { info, rows };
  } finally {
    useGpuCrossEntropyKernels(true);
    tf.dispose([h, w, labels]);
  }
}

declare global {
  interface Window {
    tfgptProfileHead?: typeof profileHead;
  }
}
window.tfgptProfileHead = profileHead;
