/**
 * `tfgpt train-tokenizer FILE --vocab-size N --out FILE [--special TOKEN...] [--min-frequency N]
 * [--newline lf|keep]`: learns a byte-level BPE vocabulary from a text (GPT-2's pre-tokenizer,
 * `trainBpe` of `@tfgpt/tokenizers`) and saves it with `saveTokenizer`: a tiktoken-style rank file
 * plus its `<out>.meta.json` sidecar, or a Hugging Face `tokenizer.json` when `--out` ends in
 * `.json`. `tfgpt train|tokenize|batches --tokenizer FILE` then use it.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { createBpeTokenizer, trainBpe, type BpeTrainProgress } from "@tfgpt/tokenizers";
import { saveTokenizer } from "@tfgpt/tokenizers/node";
import { z } from "zod";
import { CliError, UsageError } from "./errors.js";
import type { CommandIO } from "./io.js";
import { integerFlag, newlineFlag, stringFlag } from "./options.js";
import { formatDuration, renderBar, type ProgressStream } from "./progress.js";
import { readTextFile } from "./text-file.js";

/** The special tokens when `--special` is not given (GPT-2's document separator). */
export const DEFAULT_SPECIAL_TOKENS = ["<|endoftext|>"] as const;

/** The validated config of `tfgpt train-tokenizer`. */
export const TrainTokenizerConfigSchema = z
  .object({
    /** The training text. */
    file: stringFlag("file"),
    /** Vocabulary size, special tokens included: at least 256 + the number of special tokens. */
    vocabSize: integerFlag("vocab-size"),
    /** Where to save: a rank file (plus `<out>.meta.json`), or a `tokenizer.json` if it ends in `.json`. */
    out: stringFlag("out"),
    /** Special tokens, given the last ids in this order. Default `["<|endoftext|>"]`. */
    special: z.array(stringFlag("special")).default([...DEFAULT_SPECIAL_TOKENS]),
    /** Pairs seen fewer times are never merged (training may then stop early). Default 2. */
    minFrequency: integerFlag("min-frequency").default(2),
    /** Newline handling when reading. Default `"lf"`. */
    newline: newlineFlag.default("lf"),
  })
  .superRefine((c, ctx) => {
    const duplicate = c.special.find((token, i) => c.special.indexOf(token) !== i);
    if (duplicate !== undefined) {
      ctx.addIssue({ code: "custom", message: `\`--special\` must not repeat a token, received ${JSON.stringify(duplicate)} twice` });
    }
    const min = 256 + c.special.length;
    if (c.vocabSize < min) {
      ctx.addIssue({
        code: "custom",
        message: `\`--vocab-size\` must be at least ${min} (256 byte tokens + ${c.special.length} special token${c.special.length === 1 ? "" : "s"}), received ${c.vocabSize}`,
      });
    }
  });
export type TrainTokenizerConfig = z.output<typeof TrainTokenizerConfigSchema>;

/**
 * Merge progress on stderr: a bar redrawn at most every 100 ms on a terminal, plain lines at
 * every tenth of the merges otherwise.
 */
function mergeProgress(stream: ProgressStream): { update(progress: BpeTrainProgress): void; done(): void } {
  const started = performance.now();
  let lastDraw = -Infinity;
  let lastTenth = 0;
  let drawn = false;
  const status = ({ merges, targetMerges }: BpeTrainProgress): string => {
    const elapsed = (performance.now() - started) / 1000;
    const eta = merges > 0 ? formatDuration((elapsed / merges) * (targetMerges - merges)) : "?";
    return `merge ${String(merges).padStart(String(targetMerges).length)}/${targetMerges}  ETA ${eta}`;
  };
  return {
    update(progress) {
      const { merges, targetMerges } = progress;
      if (stream.isTTY) {
        const now = performance.now();
        if (now - lastDraw < 100 && merges < targetMerges) return;
        lastDraw = now;
        const text = status(progress);
        const columns = stream.columns ?? 80;
        const bar = renderBar(merges / Math.max(1, targetMerges), Math.max(10, Math.min(30, columns - text.length - 2)));
        stream.write(`\r\x1b[2K${`${bar} ${text}`.slice(0, columns - 1)}`);
        drawn = true;
      } else {
        const tenth = Math.floor((10 * merges) / Math.max(1, targetMerges));
        if (tenth > lastTenth) {
          lastTenth = tenth;
          stream.write(`${status(progress)}\n`);
        }
      }
    },
    done() {
      if (drawn) stream.write("\n");
    },
  };
}

/**
 * Checks, before training, that `out` can be written: not a directory, its directory created
 * and writable (a probe file is created and removed there).
 */
async function checkOut(out: string): Promise<void> {
  const resolved = path.resolve(out);
  const info = await stat(resolved).catch(() => undefined);
  if (info?.isDirectory()) {
    throw new UsageError(`\`--out\` ${out} is a directory; give a file name in it, e.g. ${path.join(out, "tokenizer.tiktoken")}`);
  }
  const probe = path.join(path.dirname(resolved), `.${path.basename(resolved)}.probe-${randomBytes(4).toString("hex")}`);
  try {
    await mkdir(path.dirname(resolved), { recursive: true });
    await writeFile(probe, "");
  } catch (err) {
    throw new CliError(`\`--out\` ${out} cannot be written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    await rm(probe, { force: true });
  }
}

/**
 * `saveTokenizer` into temp names beside `out`, then renamed over the final names (the sidecar
 * first, the rank file last), so a failed write (ENOSPC) leaves any previous tokenizer intact.
 */
async function saveAtomically(out: string, model: Parameters<typeof saveTokenizer>[1]): Promise<string[]> {
  const resolved = path.resolve(out);
  const json = out.endsWith(".json");
  const tmp = path.join(path.dirname(resolved), `.${path.basename(resolved)}.tmp-${randomBytes(4).toString("hex")}${json ? ".json" : ""}`);
  const finals = json ? [out] : [out, `${out}.meta.json`];
  const temps = json ? [tmp] : [tmp, `${tmp}.meta.json`];
  try {
    saveTokenizer(tmp, model);
    for (let i = temps.length - 1; i >= 0; i--) await rename(temps[i] as string, finals[i] as string);
  } catch (err) {
    for (const t of temps) await rm(t, { force: true });
    const cause = /: (E[A-Z]+)/.exec((err as Error).message)?.[1] ?? (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CliError(`cannot write the tokenizer to ${out}: ${cause}`);
  }
  return finals;
}

/**
 * Trains the tokenizer, saves it and prints what was written and how well it compresses the text.
 *
 * @returns the paths written and the training statistics.
 * @throws CliError for an unreadable text; the tokenizers' `TokenizerError` when `--out` cannot be written.
 * @example await runTrainTokenizer(TrainTokenizerConfigSchema.parse({ file: "pg84.txt", vocabSize: 4096, out: "tok/pg84.tiktoken" }), io);
 */
export async function runTrainTokenizer(config: TrainTokenizerConfig, io: CommandIO): Promise<{ files: string[]; vocabSize: number }> {
  await checkOut(config.out);
  const text = await readTextFile(config.file, config.newline);
  const progress = mergeProgress(io.stderr);
  const started = performance.now();
  const model = trainBpe(text, {
    vocabSize: config.vocabSize,
    specialTokens: config.special,
    minFrequency: config.minFrequency,
    onProgress: (p) => progress.update(p),
  });
  progress.done();
  const seconds = (performance.now() - started) / 1000;
  const files = await saveAtomically(config.out, model);
  const vocabSize = createBpeTokenizer(model).vocabSize;
  const { stats } = model;
  if (stats.merges < config.vocabSize - 256 - config.special.length) {
    io.stderr.write(`stopped after ${stats.merges} merges: no pair is seen ${config.minFrequency} times or more (lower --min-frequency or use more text)\n`);
  }
  io.stdout.write(
    `trained a ${vocabSize}-token vocabulary in ${seconds.toFixed(1)} s: ${stats.bytes.toLocaleString("en-US")} bytes -> ` +
      `${stats.tokens.toLocaleString("en-US")} tokens (${(stats.bytes / Math.max(1, stats.tokens)).toFixed(2)} bytes/token)\n` +
      `saved ${files.join(" and ")}\n`,
  );
  return { files, vocabSize };
}
