// Where the time of the fused vocabulary head + cross-entropy goes on each tfjs backend in
// headless chromium: the whole head (forward and backward, `headCrossEntropy`'s "tfjs" path and
// its "chunked" path) against the same matrix multiplications alone (test/gpu/head-profile.ts).
// `total - gemm` is all that a custom WebGPU/WebGL softmax-cross-entropy kernel could save; on
// webgpu and webgl each path runs on tfjs ops and on our kernels (gpu-cross-entropy.ts). On a
// machine without a GPU, webgpu and webgl run on SwiftShader (a CPU emulating a GPU): the split
// there is not a GPU's. On a machine with one, this is the one command that measures it.
// Run after `npm run build`:
//   node scripts/profile-head.mjs [backends=webgpu,webgl,wasm] [rows=256] [dim=64] [vocab=50257] [chunkRows=64] [repeats=3]
import { fileURLToPath } from "node:url";
import { eachBackendOnCheckPage } from "./chromium.mjs";

/** Times the head per backend; each row is the timing or `{backend, error}`. */
export async function profileHeads({ backends, rows = 256, dim = 64, vocab = 50257, chunkRows = 64, repeats = 3, onRow = () => {} }) {
  const round = (t) => ({ path: t.path, kernels: t.kernels, totalMs: Math.round(t.totalMs * 10) / 10, gemmMs: Math.round(t.gemmMs * 10) / 10, restShare: Math.round(t.restShare * 1000) / 1000 });
  return eachBackendOnCheckPage({
    backends,
    onRow,
    measure: async (page, backend) => {
      const r = await page.evaluate((req) => window.tfgptProfileHead(req), { backend, rows, dim, vocab, chunkRows, repeats });
      return { backend: r.info.name, device: r.info.device === "" ? "this CPU" : r.info.device, software: r.info.software, rows, dim, vocab, chunkRows, paths: r.rows.map(round) };
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (i, fallback) => (process.argv[i] === undefined ? fallback : Number(process.argv[i]));
  try {
    await profileHeads({
      backends: (process.argv[2] ?? "webgpu,webgl,wasm").split(","),
      rows: arg(3, 256),
      dim: arg(4, 64),
      vocab: arg(5, 50257),
      chunkRows: arg(6, 64),
      repeats: arg(7, 3),
      onRow: (row) => console.log(JSON.stringify(row)),
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
}
