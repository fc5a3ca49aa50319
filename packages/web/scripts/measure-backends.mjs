// Training and generation tokens/s of our GPT per tfjs backend in headless chromium, with the
// device each ran on (test/gpu/backend-check.ts in test/gpu/index.html, served by Vite on
// 127.0.0.1). On a machine without a GPU, webgpu and webgl run on SwiftShader: a CPU emulating a
// GPU, a correctness run and not a GPU speed. On a machine with one, this is the one command that
// measures it. Run after `npm run build`:
//   node scripts/measure-backends.mjs [backends=webgpu,webgl,wasm,cpu] [shape=micro|tiny] [steps=6] [newTokens=16]
// `tiny` is GPT_PRESETS.tiny with GPT-2's vocabulary (50,257); `micro` is the page's micro shape with a byte vocabulary (257).
import { launchPage } from "./chromium.mjs";

const backends = (process.argv[2] ?? "webgpu,webgl,wasm,cpu").split(",");
const shape = process.argv[3] ?? "micro";
const steps = Number(process.argv[4] ?? 6);
const newTokens = Number(process.argv[5] ?? 16);
const SHAPES = {
  micro: { vocabSize: 257, contextLength: 32, embeddingDim: 32, numHeads: 2, numLayers: 2 },
  tiny: { vocabSize: 50257, contextLength: 64, embeddingDim: 64, numHeads: 2, numLayers: 2 },
};
const config = SHAPES[shape];
if (config === undefined) {
  console.error(`measure-backends: shape must be one of ${Object.keys(SHAPES).join(", ")}, received ${JSON.stringify(shape)}`);
  process.exit(2);
}
const { url, page, close } = await launchPage();
try {
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${url}test/gpu/index.html`);
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 90_000 });
  for (const backend of backends) {
    const request = { backend, config, batchSize: 4, trainSteps: steps, learningRate: 1e-3, promptLength: 4, newTokens, skipUncached: true, warmGenerate: true };
    try {
      const r = await page.evaluate((req) => window.tfgptRunCheck(req), request);
      console.log(
        JSON.stringify({
          backend: r.info.name,
          device: r.info.device === "" ? "this CPU" : r.info.device,
          software: r.info.software,
          shape,
          tokensPerStep: request.batchSize * config.contextLength,
          trainTokensPerSecond: Math.round(r.trainTokensPerSecond * 10) / 10,
          generateTokensPerSecond: Math.round(r.generateTokensPerSecond * 10) / 10,
          losses: r.losses.map((l) => Math.round(l * 1e4) / 1e4),
          syncReadsPerStep: r.syncReadsPerStep,
        }),
      );
    } catch (error) {
      console.log(JSON.stringify({ backend, error: error instanceof Error ? error.message.split("\n").slice(0, 12).join(" | ") : String(error) }));
    }
  }
} finally {
  await close();
}
