// Tokens/s of the page's own training in headless chromium (wasm backend, as a user without a
// GPU gets it): the `tiny` preset with the gpt2 tokenizer, batch 8, for a number of steps, then the
// "tokens / s" the page shows. Run after `npm run build`: node scripts/measure-training.mjs [steps=30]
import { launchPage } from "./chromium.mjs";

const steps = Number(process.argv[2] ?? 30);
const { url, page, close } = await launchPage({ gpu: false });
try {
  await page.goto(`${url}?backend=wasm`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
  await page.getByTestId("model-shape").selectOption("tiny");
  await page.getByTestId("train-tokenizer").selectOption("gpt2");
  await page.getByTestId("steps-per-run").fill(String(steps));
  await page.getByTestId("train").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]')?.textContent === "done", undefined, { timeout: 600_000 });
  const shown = async (id) => (await page.getByTestId(id).textContent())?.trim();
  console.log(JSON.stringify({ steps: await shown("step"), tokensPerSecond: await shown("tokens-per-second"), firstLoss: await shown("loss-start"), loss: await shown("loss-now"), model: await shown("model-info") }));
} finally {
  await close();
}
