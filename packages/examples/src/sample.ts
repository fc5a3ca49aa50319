/**
 * `tfgpt sample --checkpoint DIR --prompt TEXT [--max-new-tokens N] [--temperature T]
 * [--top-k K] [--seed S]`: continues a prompt with a trained model, decoded with the
 * checkpoint's own tokenizer. Greedy at temperature 0; the same seed gives the same text.
 */
import { getTokenizer } from "@tfgpt/tokenizers";
import { useBackend } from "./backend.js";
import { loadCheckpoint } from "./checkpoint.js";
import { CliError, UsageError } from "./errors.js";
import { generateText } from "./generate.js";
import type { CommandIO } from "./io.js";
import type { SampleConfig } from "./sample-config.js";

export { SampleConfigSchema, type SampleConfig } from "./sample-config.js";

/**
 * Loads the checkpoint, encodes the prompt with its tokenizer and prints prompt + continuation.
 *
 * @returns the generated text (without the prompt).
 * @throws CliError for a missing or corrupt checkpoint.
 */
export async function runSample(config: SampleConfig, io: CommandIO): Promise<string> {
  const backendLine = await useBackend(config.backend);
  const { dir, model, state } = await loadCheckpoint(config.checkpoint);
  try {
    const tokenizer = getTokenizer(state.tokenizer.name, state.tokenizer.options);
    const contextLength = state.model["contextLength"];
    if (typeof contextLength !== "number") throw new CliError(`checkpoint ${dir} is corrupt: state.json has no model contextLength`);
    if (tokenizer.encode(config.prompt).length === 0) throw new UsageError("`--prompt` encodes to no tokens");
    io.stderr.write(`${backendLine}\n`);
    const text = generateText(model, tokenizer, config.prompt, {
      maxNewTokens: config.maxNewTokens,
      temperature: config.temperature,
      seed: config.seed,
      contextLength,
      ...(config.topK !== undefined ? { topK: config.topK } : {}),
    });
    io.stdout.write(`${config.prompt}${text}\n`);
    return text;
  } finally {
    model.dispose();
  }
}
