import * as tf from "@tensorflow/tfjs";
import { card, field, h, numberInput, readNumber } from "../dom.js";
import type { TrainingHandle } from "./training-panel.js";

/**
 * The sampling panel: a prompt, temperature, top-k, seed and a token budget; Generate extends the
 * prompt one token at a time with the model being trained (the text streams in as it comes).
 */
export function samplingPanel(training: TrainingHandle): HTMLElement {
  const root = card("sampling", "4 · Sample", "Text from the model above. Temperature 0 always takes the most likely token; higher values take more risks.");
  const prompt = h("input", { type: "text", value: "I HAD always", "data-testid": "prompt", class: "prompt" });
  const temperature = numberInput("temperature", 0.8, 0, 5, 0.1);
  const topK = numberInput("top-k", 40, 0, 1000);
  const maxTokens = numberInput("max-tokens", 60, 1, 1000);
  const seed = numberInput("seed", 1, 0, 2 ** 31 - 1);
  const generateButton = h("button", { class: "primary", "data-testid": "generate" }, "Generate");
  const output = h("div", { class: "sample-output", "data-testid": "sample-output" });
  const note = h("p", { class: "note", "data-testid": "sample-note" });
  root.append(
    h("div", { class: "controls" }, field("prompt", prompt), field("temperature", temperature), field("top-k (0 = all)", topK), field("max tokens", maxTokens), field("seed", seed), h("div", { class: "buttons" }, generateButton)),
    output,
    note,
  );

  let generating = false;
  const refresh = () => {
    const trainer = training.trainer();
    generateButton.disabled = generating || trainer === undefined;
    if (!generating) note.textContent = trainer === undefined ? "Train a model first (a few steps are enough to see it learn the text's characters)." : `Model after ${trainer.step} steps, ${trainer.settings.tokenizer} tokenizer.`;
  };
  training.onChange(refresh);
  refresh();

  generateButton.addEventListener("click", () => {
    void (async () => {
      const trainer = training.trainer();
      if (trainer === undefined || generating) return;
      generating = true;
      refresh();
      const promptIds = trainer.promptIds(prompt.value);
      const ids = [...promptIds];
      const generated = h("span", { class: "generated" });
      delete output.dataset.done;
      output.replaceChildren(h("span", { class: "prompt-text" }, prompt.value), generated);
      const t = readNumber(temperature, true);
      const k = readNumber(topK);
      const budget = readNumber(maxTokens);
      const started = performance.now();
      try {
        for (let i = 0; i < budget && training.trainer() === trainer; i++) {
          ids.push(await trainer.nextId(ids, t, k === 0 ? undefined : k, readNumber(seed) + i));
          generated.textContent = trainer.tokenizer.decode(ids.slice(promptIds.length));
          await tf.nextFrame();
        }
        const seconds = (performance.now() - started) / 1000;
        note.textContent = `${ids.length - promptIds.length} tokens in ${seconds.toFixed(1)} s, model after ${trainer.step} steps.`;
      } catch (error) {
        note.textContent = `Sampling failed: ${error instanceof Error ? error.message : String(error)}`;
      } finally {
        generating = false;
        generateButton.disabled = training.trainer() === undefined;
        output.dataset.done = "true";
      }
    })();
  });
  return root;
}
