// Training and generation tokens/s of our GPT per tfjs backend in headless chromium, with the
// device each ran on (test/gpu/backend-check.ts in test/gpu/index.html, served by Vite on
// 127.0.0.1). On a machine without a GPU, webgpu and webgl run on SwiftShader: a CPU emulating a
// GPU, a correctness run and not a GPU speed. On a machine with one, this is the one command that
// measures it (`npm run bench -- --only browser` puts the same rows in docs/BENCHMARKS.md).
// Run after `npm run build`:
//   node scripts/measure-backends.mjs [backends=webgpu,webgl,wasm,cpu] [shape=micro|tiny] [steps=6] [newTokens=16] [gpuKernels=on|off]
// (`off`: the head's softmax cross-entropy on tfjs ops instead of our WebGPU/WebGL kernels.)
// `tiny` is GPT_PRESETS.tiny with GPT-2's vocabulary (50,257); `micro` is the page's micro shape with a byte vocabulary (257).
import { fileURLToPath } from "node:url";
import { eachBackendOnCheckPage } from "./chromium.mjs";

/** The shapes measured: `tiny` (GPT-2's vocabulary) and the page's `micro` (bytes). */
export const SHAPES = {
  micro: { vocabSize: 257, contextLength: 32, embeddingDim: 32, numHeads: 2, numLayers: 2 },
  tiny: { vocabSize: 50257, contextLength: 64, embeddingDim: 64, numHeads: 2, numLayers: 2 },
};

/**
 * Runs the check page once per backend: `steps` AdamW steps of batch 4, then a warm KV-cache
 * generation of `newTokens`. Each row is the measurement or `{backend, error}`; `onRow` sees each
 * as it comes.
 */
export async function measureBackends({ backends, shape = "micro", steps = 6, newTokens = 16, gpuKernels = true, onRow = () => {} }) {
  const config = SHAPES[shape];
  if (config === undefined) throw new Error(`measure-backends: shape must be one of ${Object.keys(SHAPES).join(", ")}, received ${JSON.stringify(shape)}`);
  return eachBackendOnCheckPage({
    backends,
    extra: { shape },
    onRow,
    measure: async (page, backend) => {
      const request = { backend, config, batchSize: 4, trainSteps: steps, learningRate: 1e-3, promptLength: 4, newTokens, skipUncached: true, warmGenerate: true, gpuKernels, checks: false };
      const r = await page.evaluate((req) => window.tfgptRunCheck(req), request);
      return {
        backend: r.info.name,
        device: r.info.device === "" ? "this CPU" : r.info.device,
        software: r.info.software,
        shape,
        tokensPerStep: request.batchSize * config.contextLength,
        trainTokensPerSecond: Math.round(r.trainTokensPerSecond * 10) / 10,
        generateTokensPerSecond: Math.round(r.generateTokensPerSecond * 10) / 10,
        losses: r.losses.map((l) => Math.round(l * 1e4) / 1e4),
        syncReadsPerStep: r.syncReadsPerStep,
        headKernels: r.gpuKernels ?? "tfjs ops",
      };
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await measureBackends({
      backends: (process.argv[2] ?? "webgpu,webgl,wasm,cpu").split(","),
      shape: process.argv[3] ?? "micro",
      steps: Number(process.argv[4] ?? 6),
      newTokens: Number(process.argv[5] ?? 16),
      gpuKernels: process.argv[6] !== "off",
      onRow: (row) => console.log(JSON.stringify(row)),
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
}
