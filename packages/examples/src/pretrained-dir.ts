/**
 * Pretrained GPT-2 directories in the CLI (a Hugging Face directory or OpenAI's release): the
 * model (`fromPretrained` of `@tfgpt/layers/node`) and its tokenizer: the directory's own
 * `tokenizer.json`, else its `vocab.json` + `merges.txt` (OpenAI's release: `encoder.json` +
 * `vocab.bpe`, the same two files under their original names), else the `gpt2` encoding when the
 * vocabulary is GPT-2's 50,257, else a clear error.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { exists } from "@tfgpt/common/node";
import type { GPTConfig } from "@tfgpt/layers";
import { isPretrainedDir, pretrainedGPTConfig } from "@tfgpt/layers/node";
import { createBpeTokenizer, fromHuggingFaceJson, getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import { CliError } from "./errors.js";

export { isPretrainedDir };

/** GPT-2's vocabulary size (50,000 merges + 256 bytes + `<|endoftext|>`). */
export const GPT2_VOCAB_SIZE = 50257;

/** The `GPTConfig` of a pretrained directory's `config.json` or `hparams.json` (checked: GPT-2, expressible). */
export async function pretrainedConfig(dir: string): Promise<GPTConfig> {
  return pretrainedGPTConfig(dir);
}

/** A tokenizer and where it came from (for the command's stderr line). */
export interface DirTokenizer {
  readonly tokenizer: Tokenizer;
  /** e.g. `tokenizer.json`, `vocab.json + merges.txt`, `gpt2 (no tokenizer files; vocabulary 50,257)`. */
  readonly source: string;
}

/**
 * The tokenizer of a Hugging Face directory whose model has `vocabSize` ids. A tokenizer read
 * from files carries its model inline in `spec`, so checkpoints made from it need no file.
 *
 * @throws CliError naming the directory when it has no tokenizer files and the vocabulary is not
 *   GPT-2's, when the files are malformed, or when the tokenizer has more ids than the model.
 */
export async function pretrainedTokenizer(dir: string, vocabSize: number): Promise<DirTokenizer> {
  const json = path.join(dir, "tokenizer.json");
  // Hugging Face's names first, then the same files as OpenAI's release names them.
  const [vocab, merges, pairName] = (await exists(path.join(dir, "vocab.json")))
    ? [path.join(dir, "vocab.json"), path.join(dir, "merges.txt"), "vocab.json + merges.txt"]
    : [path.join(dir, "encoder.json"), path.join(dir, "vocab.bpe"), "encoder.json + vocab.bpe"];
  let result: DirTokenizer;
  try {
    if (await exists(json)) {
      result = { tokenizer: createBpeTokenizer(fromHuggingFaceJson(await readFile(json, "utf8"))), source: "tokenizer.json" };
    } else if ((await exists(vocab)) && (await exists(merges))) {
      const table = JSON.parse(await readFile(vocab, "utf8")) as Record<string, number>;
      const mergeLines = (await readFile(merges, "utf8")).split(/\r?\n/).filter((line) => line !== "" && !line.startsWith("#version"));
      const special = ["<|endoftext|>"].filter((t) => typeof table[t] === "number").map((t) => ({ id: table[t] as number, content: t }));
      const model = fromHuggingFaceJson({
        added_tokens: special,
        pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, use_regex: true },
        model: { type: "BPE", vocab: table, merges: mergeLines },
      });
      result = { tokenizer: createBpeTokenizer(model), source: pairName };
    } else if (vocabSize === GPT2_VOCAB_SIZE) {
      result = { tokenizer: getTokenizer("gpt2"), source: "gpt2 (the directory has no tokenizer files; vocabulary 50,257)" };
    } else {
      throw new CliError(
        `${dir} has no tokenizer.json, vocab.json + merges.txt or encoder.json + vocab.bpe, and its vocabulary (${vocabSize.toLocaleString("en-US")}) is not GPT-2's 50,257: ` +
          `put the model's tokenizer files beside config.json`,
      );
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${dir}: cannot read its tokenizer: ${(err as Error).message}`);
  }
  if (result.tokenizer.vocabSize > vocabSize) {
    throw new CliError(`${dir}: its tokenizer (${result.source}) has ${result.tokenizer.vocabSize} ids, more than the model's vocabulary of ${vocabSize}`);
  }
  return result;
}

/** The files of a Hugging Face directory that describe its tokenizer (copied along by `convert`). */
export const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "generation_config.json"] as const;

/** OpenAI's release names of Hugging Face's `vocab.json` / `merges.txt` (the same contents). */
export const OPENAI_TOKENIZER_FILES = { "encoder.json": "vocab.json", "vocab.bpe": "merges.txt" } as const;
