/**
 * `tfgpt sample --checkpoint DIR --prompt TEXT [--max-new-tokens N] [--temperature T]
 * [--top-k K] [--top-p P] [--seed S]`: continues a prompt with a trained model (our run or
 * checkpoint directories), OpenAI's GPT-2 release (`hparams.json` + `model.ckpt.*`) or a Hugging Face GPT-2 directory (`config.json` +
 * `model.safetensors`), decoded with the model's own tokenizer, printing tokens as they come.
 * Greedy at temperature 0; the same seed gives the same text; stops at `<|endoftext|>`.
 */
import type * as tf from "@tensorflow/tfjs";
import { contextLengthOf } from "@tfgpt/layers";
import { fromPretrained } from "@tfgpt/layers/node";
import { getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import { useBackend } from "./backend.js";
import { loadCheckpoint } from "./checkpoint.js";
import { CliError, UsageError } from "./errors.js";
import { streamText } from "./generate.js";
import type { CommandIO } from "./io.js";
import { isPretrainedDir, pretrainedConfig, pretrainedTokenizer } from "./pretrained-dir.js";
import type { SampleConfig } from "./sample-config.js";

export { SampleConfigSchema, type SampleConfig } from "./sample-config.js";

/** A model ready to sample from, with its tokenizer and window. */
interface Loaded {
  readonly model: tf.LayersModel;
  readonly tokenizer: Tokenizer;
  readonly contextLength: number;
  readonly note: string | undefined;
}

async function loadForSampling(dir: string): Promise<Loaded> {
  if (await isPretrainedDir(dir)) {
    const config = await pretrainedConfig(dir);
    const { tokenizer, source } = await pretrainedTokenizer(dir, config.vocabSize);
    const model = await fromPretrained(dir);
    return { model, tokenizer, contextLength: config.contextLength, note: `pretrained GPT-2 directory ${dir}; tokenizer: ${source}` };
  }
  const { dir: resolved, model, state } = await loadCheckpoint(dir);
  try {
    const tokenizer = getTokenizer(state.tokenizer.name, state.tokenizer.options);
    const contextLength = state.model["contextLength"] ?? contextLengthOf(model);
    if (typeof contextLength !== "number") throw new CliError(`checkpoint ${resolved} is corrupt: state.json has no model contextLength`);
    return { model, tokenizer, contextLength, note: undefined };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * Loads the model, encodes the prompt with its tokenizer and prints prompt + continuation, the
 * continuation token by token.
 *
 * @returns the generated text (without the prompt).
 * @throws CliError for a missing or corrupt checkpoint or Hugging Face directory.
 */
export async function runSample(config: SampleConfig, io: CommandIO): Promise<string> {
  const backendLine = await useBackend(config.backend);
  const { model, tokenizer, contextLength, note } = await loadForSampling(config.checkpoint);
  try {
    if (tokenizer.encode(config.prompt).length === 0) throw new UsageError("`--prompt` encodes to no tokens");
    io.stderr.write(`${backendLine}\n${note === undefined ? "" : `${note}\n`}`);
    io.stdout.write(config.prompt);
    const text = await streamText(
      model,
      tokenizer,
      config.prompt,
      {
        maxNewTokens: config.maxNewTokens,
        temperature: config.temperature,
        seed: config.seed,
        contextLength,
        ...(config.topK !== undefined ? { topK: config.topK } : {}),
        ...(config.topP !== undefined ? { topP: config.topP } : {}),
      },
      (chunk) => io.stdout.write(chunk),
    );
    io.stdout.write("\n");
    return text;
  } finally {
    model.dispose();
  }
}
