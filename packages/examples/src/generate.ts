/**
 * Prompt in, text out: `generate` of `@tfgpt/layers` (greedy at temperature 0, seeded
 * temperature / top-k sampling otherwise) between the tokenizer's `encode` and `decode`.
 */
import type * as tf from "@tensorflow/tfjs";
import { generate, type GenerateOptions } from "@tfgpt/layers";
import type { Tokenizer } from "@tfgpt/tokenizers";

/**
 * Continues `prompt` with `model` and decodes the new ids with `tokenizer`.
 *
 * @param options `generate`'s options: `maxNewTokens`, `temperature` (0: greedy), `topK`, `seed`, `contextLength`.
 * @returns the generated text, without the prompt.
 * @example generateText(model, getTokenizer("gpt2"), "Every effort moves you", { maxNewTokens: 20, temperature: 0 });
 */
export function generateText(model: tf.LayersModel, tokenizer: Tokenizer, prompt: string, options: GenerateOptions): string {
  const promptIds = tokenizer.encode(prompt);
  const ids = generate(model, promptIds, options);
  return tokenizer.decode(ids.slice(promptIds.length));
}
