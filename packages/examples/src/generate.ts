/**
 * Prompt in, text out: `generate` of `@tfgpt/layers` (greedy at temperature 0, seeded
 * temperature / top-k sampling otherwise) between the tokenizer's `encode` and `decode`.
 */
import type * as tf from "@tensorflow/tfjs";
import { generate, generateAsync, type GenerateOptions } from "@tfgpt/layers";
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

/**
 * Continues `prompt` with `model` and writes the new text to `write` as the ids come (through
 * `generateAsync`'s `onToken`). A token that ends inside a UTF-8 character is held back until the
 * character is complete, and a stop id (`<|endoftext|>` by default, when the tokenizer has it) is
 * not printed.
 *
 * @returns the generated text, without the prompt and the stop token.
 */
export async function streamText(
  model: tf.LayersModel,
  tokenizer: Tokenizer,
  prompt: string,
  options: GenerateOptions,
  write: (chunk: string) => void,
): Promise<string> {
  const promptIds = tokenizer.encode(prompt);
  const eot = tokenizer.specialTokens.get("<|endoftext|>");
  const stop = options.stop !== undefined ? options.stop : eot !== undefined ? eot : null;
  const stops = new Set(stop === null ? [] : typeof stop === "number" ? [stop] : stop);
  const fresh: number[] = [];
  let printed = "";
  const flush = (final: boolean) => {
    let text = tokenizer.decode(fresh);
    if (!final) text = text.replace(/\uFFFD+$/, ""); // maybe the first bytes of a character
    if (text.length > printed.length && text.startsWith(printed)) {
      write(text.slice(printed.length));
      printed = text;
    }
  };
  await generateAsync(model, promptIds, {
    ...options,
    stop,
    onToken: (id) => {
      if (stops.has(id)) return;
      fresh.push(id);
      flush(false);
    },
  });
  flush(true);
  return tokenizer.decode(fresh);
}
