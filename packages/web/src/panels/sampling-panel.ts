import { GenerateOptionsSchema } from "@tfgpt/layers";
import { card, field, h } from "../dom.js";
import { checkedNumber } from "../form.js";
import type { FromWorker } from "../training-protocol.js";
import type { TrainingHandle } from "./training-panel.js";

/**
 * The sampling panel: a prompt, temperature, top-k, seed and a token budget (checked with
 * `generate`'s schema); Generate asks the worker to extend the prompt with the model being
 * trained, and the text streams in as the worker picks each token.
 */
export function samplingPanel(training: TrainingHandle): HTMLElement {
  const root = card("sampling", "4 · Sample", "Text from the model above. Temperature 0 always takes the most likely token; higher values take more risks.");
  const prompt = h("input", { type: "text", value: "I HAD always", "data-testid": "prompt", class: "prompt" });
  const options = GenerateOptionsSchema.shape;
  const validity = () => refresh();
  const temperature = checkedNumber("temperature", "temperature", 0.8, options.temperature, validity, 0.1);
  const topK = checkedNumber("top-k", "top-k", 40, options.topK, validity, 1);
  const maxTokens = checkedNumber("max tokens", "max-tokens", 60, options.maxNewTokens, validity, 1);
  const seed = checkedNumber("seed", "seed", 1, options.seed, validity, 1);
  const generateButton = h("button", { class: "primary", "data-testid": "generate" }, "Generate");
  const output = h("div", { class: "sample-output", "data-testid": "sample-output" });
  const note = h("p", { class: "note", "data-testid": "sample-note" });
  root.append(
    h("div", { class: "controls" }, field("prompt", prompt), temperature.element, topK.element, maxTokens.element, seed.element, h("div", { class: "buttons" }, generateButton)),
    output,
    note,
  );

  const fields = [temperature, topK, maxTokens, seed];
  let generating: number | undefined; // the model number being sampled
  let generated: HTMLSpanElement | undefined;
  function refresh(): void {
    const model = training.model();
    generateButton.disabled = generating !== undefined || model === undefined || fields.some((f) => f.value() === undefined);
    const text = model === undefined ? "Train a model first (a few steps are enough to see it learn the text's characters)." : `Model after ${model.step} steps, ${model.tokenizer} tokenizer.`;
    if (generating === undefined && note.textContent !== text) note.textContent = text;
  }
  training.onChange(refresh);
  refresh();

  const finish = (text: string) => {
    generating = undefined;
    note.textContent = text;
    output.dataset.done = "true";
    refresh();
    note.textContent = text;
  };
  training.worker.on((m: FromWorker) => {
    if (generating === undefined || !("model" in m) || m.model !== generating) return;
    if (m.type === "text" && generated !== undefined) generated.textContent = m.text;
    else if (m.type === "generated") finish(`${m.tokens} tokens in ${m.seconds.toFixed(1)} s, model after ${m.step} steps.`);
    else if (m.type === "error" && m.during === "generate") finish(`Sampling failed: ${m.message}`);
  });

  generateButton.addEventListener("click", () => {
    const model = training.model();
    const [t, k, budget, s] = fields.map((f) => f.value());
    if (model === undefined || generating !== undefined || t === undefined || k === undefined || budget === undefined || s === undefined) return;
    generating = model.id;
    generated = h("span", { class: "generated" });
    delete output.dataset.done;
    output.replaceChildren(h("span", { class: "prompt-text" }, prompt.value), generated);
    note.textContent = "Sampling…";
    refresh();
    training.worker.send({ type: "generate", prompt: prompt.value, temperature: t, topK: k, maxTokens: budget, seed: s });
  });
  return root;
}
