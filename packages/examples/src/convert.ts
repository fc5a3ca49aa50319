/**
 * `tfgpt convert --from DIR --to DIR [--format hf|tfjs]`: a Hugging Face GPT-2 directory (or OpenAI's
 * release: hparams.json + TensorFlow checkpoint) to a
 * tfgpt run directory (`sample`, `train --init-from` read both), or a tfgpt checkpoint to a
 * Hugging Face directory that `GPT2LMHeadModel.from_pretrained` loads. Tokenizer files come along:
 * copied from a Hugging Face directory; a tfgpt BPE tokenizer is written as `tokenizer.json`.
 */
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { exists } from "@tfgpt/common/node";
import * as tf from "@tensorflow/tfjs";
import { gptConfigOfModel, GPTModel, hasLoRA, mergeLoRA, Trainer } from "@tfgpt/layers";
import { checkpointDirectory, fromPretrained, savePretrained } from "@tfgpt/layers/node";
import { BpeTokenizer, bpeModelOf, getTokenizer, toHuggingFaceJson, type Tokenizer } from "@tfgpt/tokenizers";
import { useBackend } from "./backend.js";
import { loadCheckpoint, writeFileAtomic } from "./checkpoint.js";
import { UsageError } from "./errors.js";
import type { CommandIO } from "./io.js";
import { isPretrainedDir, OPENAI_TOKENIZER_FILES, pretrainedTokenizer, TOKENIZER_FILES } from "./pretrained-dir.js";
import type { ConvertConfig } from "./convert-config.js";

export { ConvertConfigSchema, type ConvertConfig } from "./convert-config.js";

/**
 * Converts `config.from` into `config.to` (see the module comment).
 *
 * @returns the directory written and its format.
 * @throws UsageError when `--to` exists; the loaders' errors for a bad `--from`.
 */
export async function runConvert(config: ConvertConfig, io: CommandIO): Promise<{ dir: string; format: "hf" | "tfjs" }> {
  const to = path.resolve(config.to);
  if (await exists(to)) throw new UsageError(`\`--to\` ${config.to} already exists; pick a new directory`);
  const backendLine = await useBackend("auto");
  const fromHF = await isPretrainedDir(config.from);
  const format = config.format ?? (fromHF ? "tfjs" : "hf");
  let model: tf.LayersModel;
  let tokenizer: Tokenizer | undefined;
  if (fromHF) {
    model = await fromPretrained(config.from);
    const vocab = gptConfigOfModel(model).vocabSize;
    tokenizer = await pretrainedTokenizer(config.from, vocab).then(
      (t) => t.tokenizer,
      () => undefined,
    );
  } else {
    const loaded = await loadCheckpoint(config.from);
    model = loaded.model;
    tokenizer = getTokenizer(loaded.state.tokenizer.name, loaded.state.tokenizer.options);
  }
  try {
    io.stderr.write(`${backendLine}\n`);
    const modelConfig = gptConfigOfModel(model);
    if (format === "hf") {
      if (hasLoRA(model)) {
        // A GPT-2 checkpoint has no place for adapters: fold them into the kernels (same logits).
        mergeLoRA(model);
        io.stderr.write("merged the checkpoint's LoRA adapters into its weights (W + alpha/r A B)\n");
      }
      const eot = tokenizer?.specialTokens.get("<|endoftext|>");
      const temp = `${to}.tmp-${process.pid}-${Date.now()}`;
      try {
        await savePretrained(model, temp, eot !== undefined ? { eosTokenId: eot } : {});
        if (fromHF) {
          for (const file of TOKENIZER_FILES) {
            if (await exists(path.join(config.from, file))) await copyFile(path.join(config.from, file), path.join(temp, file));
          }
          for (const [openai, hf] of Object.entries(OPENAI_TOKENIZER_FILES)) {
            if (!(await exists(path.join(temp, hf))) && (await exists(path.join(config.from, openai)))) await copyFile(path.join(config.from, openai), path.join(temp, hf));
          }
        } else if (tokenizer instanceof BpeTokenizer) {
          await writeFileAtomic(path.join(temp, "tokenizer.json"), toHuggingFaceJson(bpeModelOf(tokenizer)));
        }
        await mkdir(path.dirname(to), { recursive: true });
        await rename(temp, to);
      } catch (err) {
        await rm(temp, { recursive: true, force: true });
        throw err;
      }
    } else {
      if (tokenizer === undefined) await pretrainedTokenizer(config.from, modelConfig.vocabSize); // throws the clear error
      const t = tokenizer as Tokenizer;
      if (!(model instanceof GPTModel)) throw new UsageError(`\`--from\` ${config.from} holds a ${model.getClassName()}, not a GPTModel`);
      // A step-0 checkpoint of the Trainer (AdamW without moments yet): for sample, --init-from, --resume.
      const trainer = new Trainer(model);
      try {
        const extra = {
          train: { convertedFrom: path.resolve(config.from) },
          model: modelConfig,
          tokenizer: { name: t.spec.name, ...(t.spec.options ? { options: t.spec.options } : {}) },
          data: { tokens: 0, hash: "" },
        };
        await trainer.save(checkpointDirectory(to), null, extra);
      } finally {
        trainer.dispose();
      }
    }
    io.stdout.write(`${to} (${format === "hf" ? "Hugging Face: config.json + model.safetensors" : "tfgpt run directory"})\n`);
    return { dir: to, format };
  } finally {
    model.dispose();
  }
}
