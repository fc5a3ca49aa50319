// The page training and sampling on a GPU backend in headless chromium, saved as a screenshot:
// `micro` with the byte tokenizer for a number of steps, then a greedy sample. Where there is no
// GPU (this machine), chromium runs WebGPU on SwiftShader: a CPU emulating a GPU, slow.
// Run after `npm run build`:
//   node scripts/screenshot-webgpu.mjs [out=../../docs/web-webgpu.png] [backend=webgpu] [steps=40]
import { mkdirSync, renameSync } from "node:fs";
import path from "node:path";
import { launchPage, webRoot } from "./chromium.mjs";

const out = path.resolve(process.argv[2] ?? path.join(webRoot, "../../docs/web-webgpu.png"));
const backend = process.argv[3] ?? "webgpu";
const steps = Number(process.argv[4] ?? 40);
const { url, page, close } = await launchPage({ viewport: { width: 1200, height: 900 } });
let failed = false;
try {
  page.on("pageerror", (error) => {
    failed = true;
    console.error(`page error: ${error.message}`);
  });
  await page.goto(`${url}?backend=${backend}`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
  const shown = async (id) => (await page.getByTestId(id).textContent())?.trim();
  if ((await shown("backend")) !== backend) throw new Error(`the page started on ${await shown("backend")}, not ${backend}: ${await shown("backend-why")}`);
  await page.getByTestId("sample").selectOption("0");
  await page.getByTestId("model-shape").selectOption("micro");
  await page.getByTestId("train-tokenizer").selectOption("byte");
  await page.getByTestId("steps-per-run").fill(String(steps));
  await page.getByTestId("train").click();
  await page.waitForFunction(() => ["done", "stopped"].includes(document.querySelector('[data-testid="train-status"]')?.textContent ?? "") || /fail/i.test(document.querySelector('[data-testid="train-status"]')?.textContent ?? ""), undefined, { timeout: 600_000 });
  await page.getByTestId("prompt").fill("I HAD always");
  await page.getByTestId("max-tokens").fill("24");
  await page.getByTestId("generate").click();
  await page.waitForSelector("[data-testid=sample-output][data-done=true]", { timeout: 300_000 });
  console.log(
    JSON.stringify({
      backend: await shown("backend"),
      device: await shown("backend-why"),
      status: await shown("train-status"),
      steps: await shown("step"),
      firstLoss: await shown("loss-start"),
      loss: await shown("loss-now"),
      tokensPerSecond: await shown("tokens-per-second"),
      sample: await shown("sample-output"),
      sampleNote: await shown("sample-note"),
    }),
  );
  mkdirSync(path.dirname(out), { recursive: true });
  const partial = `${out}.partial.png`;
  await page.screenshot({ path: partial, fullPage: true });
  renameSync(partial, out);
  console.log(`wrote ${out}`);
} finally {
  await close();
}
if (failed) process.exit(1);
