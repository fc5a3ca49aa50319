#!/usr/bin/env node
/**
 * `tfgpt`: the command line. This file only parses arguments (node:util `parseArgs`) into the
 * one zod-validated config of each command and dispatches to the command's own module; it owns
 * the process: exit codes, the Ctrl-C signal, and turning any error into exactly one stderr line
 * `tfgpt <cmd>: <message>` (exit 1; 2 for usage errors), with the stack only when
 * `TFGPT_DEBUG=1`.
 *
 * Signals: a command that can stop cleanly (`train` and `finetune`: they save a checkpoint; `prepare`) gets
 * SIGINT, SIGTERM and SIGHUP as an abort of `io.signal` and then exits with 128 + the signal's
 * number (130, 143, 129); a second signal exits at once. Other commands keep Node's default
 * (the signal ends them). A failed write to stdout (a full disk, /dev/full) ends the command with
 * one line and exit 1; a closed pipe (EPIPE: `| head`) ends it quietly.
 */
import { fstatSync, realpathSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { UsageError } from "./errors.js";
import { TRAIN_CONTROLS_HELP, TRAIN_DEFAULTS } from "./train-config.js";
import type { CommandIO } from "./io.js";
import { LORA_CLI_OPTIONS, LORA_USAGE } from "./lora-flags.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * One command: its flags, help, its config schema and its runner. Both are loaded lazily and
 * apart: config modules are light (zod only), so a bad flag is reported without loading tfjs.
 */
interface CommandSpec {
  readonly summary: string;
  readonly usage: string;
  /** Name of the positional argument (mapped to config key `file`), if the command takes one. */
  readonly positional?: string;
  /** The command takes one or more positionals (mapped to config key `files`). */
  readonly variadic?: boolean;
  readonly options: Options;
  /** SIGINT/SIGTERM/SIGHUP abort `io.signal` and the command stops cleanly (else: Node's default). */
  readonly interruptible?: boolean;
  readonly schema: () => Promise<z.ZodType>;
  readonly run: () => Promise<(config: never, io: CommandIO) => Promise<unknown>>;
}

const str = { type: "string" } as const;
const bool = { type: "boolean" } as const;

const COMMANDS: Record<string, CommandSpec> = {
  tokenize: {
    summary: "encode a text file: the token count and the ids",
    usage: `tfgpt tokenize FILE [--encoding gpt2 | --tokenizer FILE] [--newline lf|keep] [--json]

  --encoding E      tokenizer: gpt2 (default), r50k_base, p50k_base, cl100k_base, o200k_base, byte, ...
  --tokenizer FILE  a tokenizer trained by tfgpt train-tokenizer (instead of --encoding)
  --newline MODE    lf (default: CRLF -> LF, as Python reads text) or keep (bytes as they are)
  --json            print {"encoding", "count", "ids"}`,
    positional: "FILE",
    options: { encoding: str, tokenizer: str, newline: str, json: bool },
    schema: async () => (await import("./tokenize.js")).TokenizeConfigSchema,
    run: async () => (await import("./tokenize.js")).runTokenize,
  },
  batches: {
    summary: "print the first batch of next-token windows (the notebook's data loader)",
    usage: `tfgpt batches FILE --max-length N --stride N --batch-size N [--shuffle] [--seed S]
              [--no-drop-last] [--newline lf|keep] [--encoding E | --tokenizer FILE] [--json]

  FILE              a text file, or token shards: a .bin file or a directory of them (tfgpt prepare)
  --max-length N    tokens per window (required)
  --stride N        tokens between window starts (required)
  --batch-size N    windows per batch (required)
  --shuffle         seeded permutation of the windows (default: in order)
  --seed S          shuffle seed (default 0)
  --no-drop-last    keep a last partial batch (default: dropped, as create_dataloader_v1 does)
  --newline MODE    lf (default) or keep
  --encoding E      tokenizer (default gpt2)
  --tokenizer FILE  a tokenizer trained by tfgpt train-tokenizer (instead of --encoding)
  --json            print {"inputs": [[...]], "targets": [[...]]}`,
    positional: "FILE",
    options: {
      "max-length": str,
      stride: str,
      "batch-size": str,
      shuffle: bool,
      seed: str,
      "no-drop-last": bool,
      newline: str,
      encoding: str,
      tokenizer: str,
      json: bool,
    },
    schema: async () => (await import("./batches.js")).BatchesConfigSchema,
    run: async () => (await import("./batches.js")).runBatches,
  },
  "train-tokenizer": {
    summary: "learn a byte-level BPE vocabulary from a text and save it",
    usage: `tfgpt train-tokenizer FILE --vocab-size N --out FILE [--special TOKEN...] [--min-frequency N]
                      [--newline lf|keep]

  FILE              the training text
  --vocab-size N    tokens in all: 256 bytes + merges + special tokens (required)
  --out FILE        a tiktoken rank file (+ FILE.meta.json), or a tokenizer.json if FILE ends in .json
  --special TOKEN   a special token, repeatable (default <|endoftext|>; given ones replace it)
  --min-frequency N never merge a pair seen fewer times (default 2)
  --newline MODE    lf (default) or keep`,
    positional: "FILE",
    options: { "vocab-size": str, out: str, special: { type: "string", multiple: true }, "min-frequency": str, newline: str },
    schema: async () => (await import("./train-tokenizer.js")).TrainTokenizerConfigSchema,
    run: async () => (await import("./train-tokenizer.js")).runTrainTokenizer,
  },
  train: {
    summary: "train a GPT on a text, with progress, validation, plots and checkpoints",
    usage: `tfgpt train [--text FILE] [--encoding gpt2 | --tokenizer FILE] [--preset tiny] [--context N] [--batch-size N]
            [--stride N] [--steps N | --epochs N] [--lr X] [--val-fraction 0.1] [--seed S]
            [--backend auto|tensorflow|wasm|cpu] [--out DIR] [--resume DIR] [--init-from DIR]
            [--checkpoint-every N] [--eval-every N] [--sample] [--overwrite]
            [--layers N] [--heads N] [--width N] [--dropout P] [--lr-schedule constant|cosine]
            [--warmup-steps N] [--min-lr X] [--lr-decay-steps N] [--weight-decay X] [--grad-clip X]
            [--grad-accum N] [--eval-iters N]
            [--lora-rank R [--lora-alpha A] [--lora-dropout P] [--lora-targets LIST]]

  --text FILE           training text (default: "The Verdict", shipped with this package)
                        or token shards: a .bin file, or a directory (its val shards validate)
  --encoding E          tokenizer (default gpt2)
  --tokenizer FILE      a tokenizer trained by tfgpt train-tokenizer (instead of --encoding);
                        checkpoints store it, so sample needs no file
  --preset NAME         model preset of @tfgpt/layers (default tiny)
  --context N           tokens per training window (default: the preset's, at most 64)
  --batch-size N        windows per step (default 8)
  --stride N            tokens between window starts (default: --context)
  --steps N             optimizer steps in total (default 300)
  --epochs N            passes over the training windows instead of --steps
  --lr X                AdamW peak learning rate (default ${TRAIN_DEFAULTS.lr})
  --val-fraction F      held-out tail of the tokens for validation loss (default 0.1; 0: none)
  --seed S              seed of the initial weights and the shuffling (default 0)
  --backend B           auto (default), tensorflow, wasm or cpu
  --out DIR             run directory: checkpoints, metrics.jsonl, loss.svg (default runs/<time>)
  --resume DIR          continue the run in DIR (or a checkpoint directory) up to --steps
  --init-from DIR       fine-tune: start from the weights (and tokenizer) of a Hugging Face GPT-2
                        directory or a tfgpt checkpoint, instead of a fresh --preset
  --checkpoint-every N  also checkpoint every N steps (default: only at the end)
  --eval-every N        validation loss every N steps (default: about 10 times a run)
  --sample              print a short greedy sample at the end
  --overwrite           start afresh in an --out that holds a previous run
${TRAIN_CONTROLS_HELP}
${LORA_USAGE}`,
    options: {
      text: str,
      encoding: str,
      tokenizer: str,
      preset: str,
      context: str,
      "batch-size": str,
      stride: str,
      steps: str,
      epochs: str,
      lr: str,
      "val-fraction": str,
      seed: str,
      backend: str,
      out: str,
      resume: str,
      "init-from": str,
      "checkpoint-every": str,
      "eval-every": str,
      sample: bool,
      overwrite: bool,
      layers: str,
      heads: str,
      width: str,
      dropout: str,
      "lr-schedule": str,
      "warmup-steps": str,
      "min-lr": str,
      "lr-decay-steps": str,
      "weight-decay": str,
      "grad-clip": str,
      "grad-accum": str,
      "eval-iters": str,
      rank: str,
      "world-size": str,
      ...LORA_CLI_OPTIONS,
    },
    interruptible: true,
    schema: async () => (await import("./train-config.js")).TrainConfigSchema,
    run: async () => (await import("./train.js")).runTrain,
  },
  finetune: {
    summary: "fine-tune a pretrained GPT for classification or instruction following (the book's chapters 6 and 7)",
    usage: `tfgpt finetune --task classify|instruct --data FILE --init-from DIR [--out DIR] [--epochs N | --steps N]
               [--batch-size N] [--lr X] [--context N] [--val-fraction F] [--seed S] [--balance]
               [--trainable-blocks N|all] [--mask-prompt] [--batch-by-length] [--samples N] [--max-new-tokens N]
               [--checkpoint-every N] [--eval-every N] [--backend B] [--overwrite]
               [--lora-rank R [--lora-alpha A] [--lora-dropout P] [--lora-targets LIST]]
       tfgpt finetune --resume DIR [--steps N]

  --task T              classify (chapter 6: labelled texts, class head on the last token,
                        accuracy) or instruct (chapter 7: Alpaca prompts, masked loss, responses)
  --data FILE           classify: .csv/.tsv with a header (text,label) or .jsonl ({"text", "label"});
                        instruct: a JSON list of {"instruction", "input", "output"}
  --init-from DIR       the pretrained model: a Hugging Face or OpenAI GPT-2 directory, or a
                        tfgpt checkpoint / run directory (its tokenizer comes along)
  --out DIR             run directory (default runs/finetune-<task>-<time>)
  --epochs N            passes over the training examples (default 5 classify, 2 instruct)
  --steps N             optimizer steps instead of --epochs (on --resume: the new total)
  --batch-size N        examples per step (default 8)
  --lr X                AdamW learning rate (default 0.00005; weight decay 0.1, as the book)
  --context N           longest input in tokens (default and at most: the model's context)
  --val-fraction F      examples held out for validation (default 0.1)
  --seed S              split, shuffle and dropout seed (default 123)
  --balance             classify: undersample every label to the rarest one's count
  --trainable-blocks N  classify: last blocks that train besides ln_f and the head (default 1; all)
  --mask-prompt         instruct: also mask the prompt's targets (the book's exercise 7.2)
  --batch-by-length     instruct: batch examples of similar length (seeded pools sorted by length,
                        batches in a seeded order): less padding than random batches; every
                        batch is padded to its longest example either way (the book's collate)
  --samples N           instruct: validation responses printed at the end (default 3)
  --max-new-tokens N    instruct: response length at most (default 35)
  --checkpoint-every N  also checkpoint every N steps (default: only at the end)
  --eval-every N        accuracy / validation loss every N steps (default: 5 times a run)
  --backend B           auto (default), tensorflow, wasm or cpu
  --overwrite           start afresh in an --out that holds a previous run
  --resume DIR          continue the run in DIR
${LORA_USAGE}
                        (classify: the class head trains too; --trainable-blocks is then unused)`,
    options: {
      ...LORA_CLI_OPTIONS,
      task: str,
      data: str,
      "init-from": str,
      out: str,
      resume: str,
      overwrite: bool,
      steps: str,
      epochs: str,
      "batch-size": str,
      context: str,
      lr: str,
      "val-fraction": str,
      seed: str,
      balance: bool,
      "trainable-blocks": str,
      "mask-prompt": bool,
      "batch-by-length": bool,
      samples: str,
      "max-new-tokens": str,
      "checkpoint-every": str,
      "eval-every": str,
      backend: str,
    },
    interruptible: true,
    schema: async () => (await import("./finetune-config.js")).FinetuneConfigSchema,
    run: async () => (await import("./finetune.js")).runFinetune,
  },
  evaluate: {
    summary: "evaluate a checkpoint: a classifier's accuracy, an instruction or language model's loss and perplexity",
    usage: `tfgpt evaluate --checkpoint DIR [--data FILE] [--batch-size N] [--json] [--backend B]

  --checkpoint DIR      a run or checkpoint directory (tfgpt finetune or train), or a pretrained
                        GPT-2 directory (Hugging Face or OpenAI)
  --data FILE           classify run: labelled texts (.csv/.tsv/.jsonl, labels of the run's set):
                          accuracy, loss, per-label counts (padded as in training);
                        instruct run: an instruction JSON: masked loss per target token, perplexity;
                        language model: a text file: loss per token and perplexity over windows
                          of the model's context.
                        Default for a finetune run: its own validation split (same file and seed)
  --batch-size N        examples or windows per forward pass (default 8)
  --json                print one JSON object (kind, loss, perplexity, accuracy, classes, confusion...)
  --backend B           auto (default), tensorflow, wasm or cpu`,
    options: { checkpoint: str, data: str, "batch-size": str, json: bool, backend: str },
    schema: async () => (await import("./evaluate-config.js")).EvaluateConfigSchema,
    run: async () => (await import("./evaluate.js")).runEvaluate,
  },
  sample: {
    summary: "generate text from a checkpoint",
    usage: `tfgpt sample --checkpoint DIR --prompt TEXT [--max-new-tokens N] [--temperature T]
             [--top-k K] [--top-p P] [--seed S] [--backend B]

  --checkpoint DIR      a run directory (its latest checkpoint), a checkpoint directory, or a
                        pretrained GPT-2 directory: Hugging Face's (config.json + model.safetensors)
                        or OpenAI's release (hparams.json + model.ckpt.*); tokenizer: its
                        tokenizer.json, vocab.json + merges.txt or encoder.json + vocab.bpe, else
                        gpt2 for 50,257 ids
  --prompt TEXT         the text to continue
  --max-new-tokens N    tokens to generate at most (default 50; stops at <|endoftext|>)
  --temperature T       0 (default) is greedy; higher is more random
  --top-k K             sample among the K most likely tokens only
  --top-p P             sample among the fewest most likely tokens whose probabilities reach P
  --seed S              sampling seed: the same seed gives the same text (default 0)
  --backend B           auto (default), tensorflow, wasm or cpu`,
    options: {
      checkpoint: str,
      prompt: str,
      "max-new-tokens": str,
      temperature: str,
      "top-k": str,
      "top-p": str,
      seed: str,
      backend: str,
    },
    schema: async () => (await import("./sample-config.js")).SampleConfigSchema,
    run: async () => (await import("./sample.js")).runSample,
  },
  convert: {
    summary: "convert a Hugging Face GPT-2 directory (or OpenAI's release) to a tfgpt run directory, or back",
    usage: `tfgpt convert --from DIR --to DIR [--format hf|tfjs]

  --from DIR        a Hugging Face GPT-2 directory (config.json + model.safetensors or its
                    sharded index), OpenAI's GPT-2 release (hparams.json + model.ckpt.*) or a
                    tfgpt run / checkpoint directory
  --to DIR          the directory to write (must not exist)
  --format F        hf (config.json + model.safetensors + tokenizer files: loads in transformers)
                    or tfjs (a tfgpt run directory); default: the other format than --from's`,
    options: { from: str, to: str, format: str },
    schema: async () => (await import("./convert-config.js")).ConvertConfigSchema,
    run: async () => (await import("./convert.js")).runConvert,
  },
  prepare: {
    summary: "tokenize text, JSONL or parquet into llm.c token shards (*_train_NNNNNN.bin / *_val_NNNNNN.bin)",
    usage: `tfgpt prepare FILE|DIR|GLOB... --out DIR [--encoding gpt2] [--shard-tokens N] [--val-fraction X]
              [--workers N] [--format llmc|nanogpt] [--prefix NAME] [--newline lf|keep]
              [--text-field NAME] [--skip-bad-lines] [--rank R --world-size W] [--resume]
       tfgpt prepare --merge DIR... --out DIR

  FILE|DIR|GLOB     .txt files (one document each), .jsonl/.jsonl.gz/.json.gz (one per line) and
                    .parquet (one per row); a directory means all such files in it, sorted; a
                    quoted glob ("data/*.parquet") the files it matches
  --out DIR         where the shards go (created if missing)
  --encoding E      tokenizer (default gpt2); documents are separated by <|endoftext|>
  --shard-tokens N  tokens per shard (default 100000000)
  --val-fraction X  first fraction of the input bytes written as the val split (default 0.1)
  --workers N       encoding threads (default 1)
  --format F        llmc (default: 1024-byte header, uint16/uint32 tokens) or nanogpt (train.bin/val.bin)
  --prefix NAME     shard name prefix (default: the first input's name)
  --newline MODE    lf (default) or keep
  --text-field NAME the JSONL field / parquet column with the text (default text)
  --skip-bad-lines  count and skip JSONL lines that are not JSON (and rows without text)
  --rank R          this process's share of a fan-out (default: SLURM_ARRAY_TASK_ID or
                    JOB_COMPLETION_INDEX); its shards and manifest are named PREFIX-rRRRRR
  --world-size W    processes in the fan-out (default: SLURM_ARRAY_TASK_COUNT, else 1)
  --merge           join the finished ranks in DIR... into --out (checks their manifests)
  --resume          continue an interrupted prepare into --out (same inputs and flags)`,
    positional: "FILE|DIR",
    variadic: true,
    options: {
      out: str,
      encoding: str,
      "shard-tokens": str,
      "val-fraction": str,
      workers: str,
      format: str,
      prefix: str,
      newline: str,
      "text-field": str,
      "skip-bad-lines": bool,
      rank: str,
      "world-size": str,
      merge: bool,
      resume: bool,
    },
    interruptible: true,
    schema: async () => (await import("./prepare.js")).PrepareConfigSchema,
    run: async () => (await import("./prepare.js")).runPrepare,
  },
  walkthrough: {
    summary: "the chapter-2 notebook in TypeScript: text -> ids -> windows -> embeddings",
    usage: `tfgpt walkthrough [--text FILE]

  --text FILE   the text (default: "The Verdict", shipped with this package)`,
    options: { text: str },
    schema: async () => (await import("./walkthrough.js")).WalkthroughConfigSchema,
    run: async () => (await import("./walkthrough.js")).runWalkthrough,
  },
};

const MAIN_USAGE = `usage: tfgpt <command> [options]   (tfgpt <command> --help for its options)

commands:
${Object.entries(COMMANDS)
  .map(([name, spec]) => `  ${name.padEnd(16)} ${spec.summary}`)
  .join("\n")}`;

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Parses `argv` (after the command name) into the raw, not yet validated config of `spec`:
 * `--max-length 4` -> `{maxLength: "4"}`, `--no-drop-last` -> `{dropLast: false}`, the
 * positional -> `{file}`. Flags not given are left out, so the schema's defaults apply.
 */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): { help: boolean; raw: Record<string, unknown> } {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(spec, argv),
      options: { ...spec.options, help: { type: "boolean", short: "h" } },
      allowPositionals: spec.positional !== undefined,
      strict: true,
    });
  } catch (err) {
    const message = (err as Error).message.split("\n")[0] ?? "";
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`unknown option ${unknown[1]}`);
    const positional = /^Unexpected argument '([^']+)'/.exec(message);
    if (positional) throw new UsageError(`unexpected argument ${JSON.stringify(positional[1])}`);
    throw new UsageError(message.replace(/\.$/, ""));
  }
  const raw: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(parsed.values)) {
    if (flag === "help") continue;
    if (flag.startsWith("no-") && value === true) raw[camelCase(flag.slice(3))] = false;
    else raw[camelCase(flag)] = value;
  }
  if (spec.positional !== undefined && !parsed.values.help) {
    if (parsed.positionals.length === 0) throw new UsageError(`missing ${spec.positional}`);
    if (spec.variadic) {
      raw.files = parsed.positionals;
      return { help: false, raw };
    }
    if (parsed.positionals.length > 1) throw new UsageError(`expected one ${spec.positional}, received ${parsed.positionals.length}`);
    raw.file = parsed.positionals[0];
  }
  return { help: parsed.values.help === true, raw };
}

/**
 * `--steps -1` as `--steps=-1`: parseArgs takes a value starting with a dash for a flag and calls
 * the line ambiguous; a number is meant as the value (and then validated with the flag's name).
 */
function joinNegativeValues(spec: CommandSpec, argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const option = arg.startsWith("--") ? spec.options[arg.slice(2)] : undefined;
    if (option?.type === "string" && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** `maxLength` -> `--max-length` (config keys are the flags in camel case). */
function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** One line for any error: the zod issue, the error's first line, or an fs error's code and path. */
function describeError(err: unknown, given?: Record<string, unknown>): string {
  if (err instanceof z.ZodError) {
    const issue = err.issues[0];
    if (!issue) return "invalid arguments";
    const key = issue.path.map(String).join(".");
    const where = issue.path.length === 1 && typeof issue.path[0] === "string" ? flagName(issue.path[0]) : key;
    // A required flag left out reaches its schema as `undefined`.
    const first = issue.path[0];
    if (issue.path.length === 1 && typeof first === "string" && given !== undefined && given[first] === undefined) return `\`${where}\` is required`;
    return issue.message.startsWith("`") || where === "" ? issue.message : `\`${where}\`: ${issue.message}`;
  }
  if (err instanceof Error) {
    const fsError = err as NodeJS.ErrnoException;
    if (typeof fsError.code === "string" && typeof fsError.path === "string") {
      return `${fsError.path}: ${fsError.code === "ENOENT" ? "no such file or directory" : fsError.code}`;
    }
    return (err.message.split("\n").find((line) => line.trim() !== "") ?? err.name).trim();
  }
  return String(err);
}

function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || err instanceof z.ZodError;
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code.
 * SIGINT/SIGTERM/SIGHUP during `train` abort the signal in `io` (exit 130/143/129 after it
 * saved); a second signal exits at once.
 */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    (command === undefined ? io.stderr : io.stdout).write(`${MAIN_USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const spec = COMMANDS[command];
  if (!spec) {
    io.stderr.write(`tfgpt: unknown command ${JSON.stringify(command)} (commands: ${Object.keys(COMMANDS).join(", ")})\n`);
    return 2;
  }
  let given: Record<string, unknown> | undefined;
  try {
    const { help, raw } = parseCommandArgs(spec, rest);
    given = raw;
    if (help) {
      io.stdout.write(`usage: ${spec.usage}\n`);
      return 0;
    }
    const config = (await spec.schema()).parse(raw);
    await (await spec.run())(config as never, io);
    return signalExitCode(io.signal) ?? 0;
  } catch (err) {
    if (process.env.TFGPT_DEBUG === "1") io.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    io.stderr.write(`tfgpt ${command}: ${describeError(err, given)}\n`);
    return signalExitCode(io.signal) ?? (isUsageError(err) ? 2 : 1);
  }
}

/** The signals an interruptible command stops cleanly on, and their numbers (exit code 128 + n). */
export const STOP_SIGNALS = { SIGINT: 2, SIGHUP: 1, SIGTERM: 15 } as const;

/** The exit code of a command stopped by `signal` (its abort reason): 128 + the signal's number. */
export function signalExitCode(signal: AbortSignal | undefined): number | undefined {
  if (!signal?.aborted) return undefined;
  const n = (STOP_SIGNALS as Record<string, number>)[String(signal.reason)];
  return 128 + (n ?? STOP_SIGNALS.SIGINT);
}

/** Whether fd 1 is a file or a device (`> out.json`, `> /dev/full`): Node writes those synchronously. */
function stdoutIsFile(): boolean {
  try {
    const info = fstatSync(1);
    return info.isFile() || (info.isCharacterDevice() && !process.stdout.isTTY);
  } catch {
    return false;
  }
}

/**
 * Writes all of `chunk` to fd 1. Node's stream for a file stdout ignores a short write (a disk
 * that fills up mid-write: the rest is silently lost); looping makes the next write fail loudly.
 */
function writeAllToStdout(chunk: string, onError: (err: NodeJS.ErrnoException) => void): boolean {
  const bytes = Buffer.from(chunk);
  try {
    for (let done = 0; done < bytes.length; ) done += writeSync(1, bytes, done, bytes.length - done);
  } catch (err) {
    onError(err as NodeJS.ErrnoException);
  }
  return true;
}

/** Runs `tfgpt` on `process.argv` and exits with its code (the bin calls this). */
export async function runCli(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = argv[0] ?? "";
  const controller = new AbortController();
  if (COMMANDS[command]?.interruptible) {
    for (const [name, number] of Object.entries(STOP_SIGNALS)) {
      process.on(name, () => {
        if (controller.signal.aborted) process.exit(128 + number);
        controller.abort(name);
      });
    }
  }
  let stdoutFailed = false;
  const stdoutError = (err: NodeJS.ErrnoException | null | undefined): void => {
    if (!err || stdoutFailed) return;
    stdoutFailed = true;
    // A reader that went away (`| head`) is not an error; anything else (ENOSPC, EIO) is.
    if (err.code === "EPIPE") process.exit(signalExitCode(controller.signal) ?? 0);
    process.stderr.write(`tfgpt ${command}: cannot write to stdout: ${err.code ?? err.message}${err.code === "ENOSPC" ? " (no space left on device)" : ""}\n`);
    process.exit(1);
  };
  process.stdout.on("error", stdoutError);
  const code = await main(argv, {
    stdout: stdoutIsFile() ? { write: (chunk: string) => writeAllToStdout(chunk, stdoutError) } : process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  });
  // Let stdout drain (piped output), then exit: tfjs may keep timers alive.
  process.stdout.write("", (err) => {
    stdoutError(err);
    process.exit(code);
  });
}

// Run only as the program (also through npm's bin symlink), not when imported by tests.
const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url)) await runCli();
