/**
 * Our GPT on tfjs's GPU backends, in a real browser: Debian's chromium (driven by playwright-core)
 * opens test/gpu/index.html served by Vite on 127.0.0.1 (WebGPU needs a secure context) and runs
 * test/gpu/backend-check.ts on cpu, then on webgpu and on webgl with the cpu run's weights. On a
 * machine without a GPU, chromium runs both on SwiftShader (a CPU emulating a GPU: correctness only,
 * so the model is tiny and the steps few). Checked per backend, against cpu:
 * - forward logits of a fixed batch within float32 tolerance;
 * - four AdamW training steps on one batch (fused head + cross-entropy, TokenEmbedding's and the
 *   positional embedding's gradients, LayerNorm's broadcasting path): the same losses, falling,
 *   and no synchronous host read (`dataSync`) inside a step, one asynchronous read (the loss);
 * - greedy generation with the KV cache (and without): the same ids.
 * Skips with a message where /usr/bin/chromium is missing, and per backend where the browser
 * offers no WebGPU adapter or WebGL context.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckRequest, CheckResult } from "./gpu/backend-check.js";

const CHROMIUM = process.env.TFGPT_CHROMIUM ?? "/usr/bin/chromium";
const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const hasChromium = existsSync(CHROMIUM);
const title = hasChromium
  ? "GPT on webgpu and webgl in headless chromium"
  : `GPT on webgpu and webgl in headless chromium: SKIPPED, ${CHROMIUM} not found (apt-get install -y chromium, or set TFGPT_CHROMIUM)`;
if (!hasChromium) console.warn(title);

/** Chromium flags: GPU allowed (no --disable-gpu), WebGPU enabled, SwiftShader allowed where there is no GPU. */
const GPU_CHROMIUM_ARGS = [
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--enable-unsafe-swiftshader",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const REQUEST = {
  // Seeded: every run (here and on CI) checks the same weights.
  config: { vocabSize: 64, contextLength: 16, embeddingDim: 32, numHeads: 2, numLayers: 2, qkvBias: true, seed: 2024 },
  batchSize: 2,
  trainSteps: 4,
  learningRate: 1e-2,
  promptLength: 4,
  newTokens: 8,
  initScale: 5,
} satisfies Omit<CheckRequest, "backend">;

async function run(page: Page, request: CheckRequest): Promise<CheckResult> {
  return page.evaluate(async (r) => {
    const check = window.tfgptRunCheck;
    if (check === undefined) throw new Error("backend-check.ts did not load");
    return check(r);
  }, request);
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe.skipIf(!hasChromium)(title, () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let userDataDir = "";
  let reference: CheckResult;
  /** The same check on wasm (the page's CPU backend, with our head kernel) from cpu's weights. */
  let wasm: CheckResult;
  const pageErrors: string[] = [];
  const available: Record<"webgpu" | "webgl", string | null> = { webgpu: null, webgl: null };

  beforeAll(async () => {
    server = await createServer({
      root: webRoot,
      configFile: path.join(webRoot, "vite.config.ts"),
      logLevel: "warn",
      server: { host: "127.0.0.1", port: 0, hmr: false, watch: null },
    });
    await server.listen();
    const url = server.resolvedUrls?.local[0] ?? "";
    userDataDir = mkdtempSync(path.join(os.tmpdir(), "tfgpt-chromium-"));
    const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: GPU_CHROMIUM_ARGS });
    browser = context.browser() ?? undefined;
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    await page.goto(`${url}test/gpu/index.html`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 90_000 });
    const probe = await page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<object | null> } }).gpu;
      const adapter = gpu === undefined ? null : await gpu.requestAdapter().catch(() => null);
      const gl = document.createElement("canvas").getContext("webgl2");
      return { webgpu: adapter === null ? `no WebGPU adapter (navigator.gpu ${gpu === undefined ? "missing" : "present"})` : null, webgl: gl === null ? "no WebGL2 context" : null };
    });
    available.webgpu = probe.webgpu;
    available.webgl = probe.webgl;
    reference = await run(page, { ...REQUEST, backend: "cpu" });
    wasm = await run(page, { ...REQUEST, backend: "wasm", weights: reference.weights });
    // Sanity of the reference itself: the KV cache gives the window's ids, and the loss falls.
    expect(reference.cachedIds).toEqual(reference.uncachedIds);
    expect(reference.losses.at(-1)).toBeLessThan((reference.losses[0] as number) - 0.1);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (userDataDir !== "") rmSync(userDataDir, { recursive: true, force: true });
  });

  for (const backend of ["webgpu", "webgl"] as const) {
    it(`${backend}: logits, training losses and greedy KV-cache ids equal cpu's; no host sync in a step`, async (ctx) => {
      const missing = available[backend];
      if (missing !== null) {
        console.warn(`${backend} test SKIPPED: ${missing} (chromium needs --enable-unsafe-webgpu --enable-unsafe-swiftshader and a page on 127.0.0.1)`);
        ctx.skip();
      }
      const result = await run(page, { ...REQUEST, backend, weights: reference.weights });
      console.log(`${backend} Trainer (clipped) losses ${result.trainerLosses.map((l) => l.toFixed(4)).join(" ")} (cpu ${reference.trainerLosses.map((l) => l.toFixed(4)).join(" ")})`);
      console.log(
        `${backend} on ${result.info.device}${result.info.software ? " (software)" : ""}: losses ${result.losses.map((l) => l.toFixed(4)).join(" ")} (cpu ${reference.losses.map((l) => l.toFixed(4)).join(" ")}), ` +
          `max |logit - cpu| ${maxAbsDiff(result.logits, reference.logits).toExponential(2)}, train ${result.trainTokensPerSecond.toFixed(0)} tokens/s, generate ${result.generateTokensPerSecond.toFixed(1)} tokens/s, chunked head vs whole ${result.chunkedHeadDiff.toExponential(2)}`,
      );
      expect(result.info.name).toBe(backend);
      expect(result.weights).toHaveLength(reference.weights.length);
      // Forward: the same weights give the same logits (float32; the GPU sums in another order).
      expect(maxAbsDiff(result.logits, reference.logits)).toBeLessThan(2e-3);
      expect(Math.abs(result.meanLoss - reference.meanLoss)).toBeLessThan(1e-3);
      // Gradient check against cpu: every weight's gradient of the training loss (TokenEmbedding's
      // scatter-add, the positional embedding, LayerNorm, attention, the fused head).
      expect(result.gradients).toHaveLength(reference.gradients.length);
      let worstGradient = 0;
      reference.gradients.forEach((want, i) => {
        const scale = Math.max(1, ...want.map(Math.abs));
        worstGradient = Math.max(worstGradient, maxAbsDiff(result.gradients[i] as number[], want) / scale);
      });
      console.log(`${backend} gradients vs cpu: ${reference.gradients.length} weights, largest difference ${worstGradient.toExponential(2)} (relative to max(1, max |g|))`);
      // Seen: 8.7e-6 (webgpu), 3.2e-6 (webgl); a wrong gradient is off by O(1).
      expect(worstGradient).toBeLessThan(5e-4);
      // layers' Trainer step with global-norm clipping (tfjs-webgpu's AddN over many inputs gave a wrong norm).
      expect(maxAbsDiff(result.trainerLosses, reference.trainerLosses)).toBeLessThan(2e-3);
      expect(reference.trainerLosses.at(-1)).toBeLessThan(reference.trainerLosses[0] as number);
      // Training: the same losses step by step (the first is the forward pass again), falling.
      expect(Math.abs((result.losses[0] as number) - (reference.losses[0] as number))).toBeLessThan(1e-3);
      expect(maxAbsDiff(result.losses, reference.losses)).toBeLessThan(2e-2);
      // ... and wasm's (the page's CPU backend: our head kernel, XNNPACK).
      expect(maxAbsDiff(result.logits, wasm.logits)).toBeLessThan(2e-3);
      expect(maxAbsDiff(result.losses, wasm.losses)).toBeLessThan(2e-2);
      expect(result.losses.at(-1)).toBeLessThan((result.losses[0] as number) - 0.1);
      // No dataSync in a step; the loss is read once, asynchronously (tfjs's trainOnBatch).
      expect(result.syncReadsPerStep).toEqual(result.losses.map(() => 0));
      expect(Math.max(...result.asyncReadsPerStep)).toBeLessThanOrEqual(1);
      // Generation: the same greedy ids as cpu, with and without the KV cache.
      // Ids without a recorded range: read on cpu, refused on a GPU backend (no synchronous read-back).
      expect(reference.unrecordedIds).toBe("");
      expect(result.unrecordedIds).toMatch(new RegExp(`cannot be checked on the ${backend} backend without a synchronous read-back.*idsTensor`));
      expect(result.cachedIds).toEqual(reference.cachedIds);
      expect(result.uncachedIds).toEqual(reference.cachedIds);
      // The head in chunks (no whole [N, V] matrix) equals the whole-matrix path on this backend.
      expect(result.chunkedHeadDiff).toBeLessThan(1e-5);
      // The head's softmax cross-entropy runs on our custom kernels here, and equals cpu's tfjs ops.
      expect(reference.gpuKernels).toBeNull();
      expect(result.gpuKernels).toBe(backend);
      expect(result.headLeaks).toBe(0);
      expect(reference.headLeaks).toBe(0);
      // Bounds well above what was seen (loss 4.8e-7, grads ~1e-8) and far below a wrong kernel's error.
      expect(Math.abs(result.head.loss - reference.head.loss)).toBeLessThan(5e-5);
      expect(Math.abs(result.head.ignoredLoss - reference.head.ignoredLoss)).toBeLessThan(5e-5);
      expect(result.head.ignoredLoss).not.toBeCloseTo(result.head.loss, 3);
      console.log(
        `${backend} head kernels vs cpu: loss ${Math.abs(result.head.loss - reference.head.loss).toExponential(2)}, dHidden ${maxAbsDiff(result.head.dHidden, reference.head.dHidden).toExponential(2)}, ` +
          `dTable ${maxAbsDiff(result.head.dTable, reference.head.dTable).toExponential(2)}, lse ${maxAbsDiff(result.kernels.lse, reference.kernels.lse).toExponential(2)}, grad ${maxAbsDiff(result.kernels.grad, reference.kernels.grad).toExponential(2)}`,
      );
      expect(maxAbsDiff(result.head.dHidden, reference.head.dHidden)).toBeLessThan(1e-6);
      expect(maxAbsDiff(result.head.dTable, reference.head.dTable)).toBeLessThan(1e-6);
      // Row log-sum-exp over 4 blocks of webgl's pass (1,000 columns), with logits up to 100 and
      // an all-equal row (lse = 0.5 + ln 1000); the gradient with a label per row and scales 1, 0.5, 2, -1, 0.
      expect(result.kernels.lse[2]).toBeCloseTo(0.5 + Math.log(1000), 4);
      expect(result.kernels.lse.every(Number.isFinite)).toBe(true);
      for (let r = 0; r < 5; r++) {
        const want = reference.kernels.lse[r] as number;
        expect(Math.abs((result.kernels.lse[r] as number) - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
      }
      // webgl's exp/log are a few ulps off: lse within ~1e-7 relative, so p = exp(z - lse) (times
      // scales up to 2) within a few 1e-6 (seen 1.3e-6); a wrong gradient is off by far more.
      expect(maxAbsDiff(result.kernels.grad, reference.kernels.grad)).toBeLessThan(5e-5);
      expect(pageErrors).toEqual([]);
    }, 300_000);
  }
});
