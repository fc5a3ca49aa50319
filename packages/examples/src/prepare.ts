/**
 * `tfgpt prepare FILE|DIR|GLOB... --out DIR [--encoding gpt2] [--shard-tokens N] [--val-fraction X]
 * [--workers N] [--format llmc|nanogpt] [--prefix NAME] [--newline lf|keep] [--text-field NAME]
 * [--skip-bad-lines] [--rank R --world-size W] [--resume]` and `tfgpt prepare --merge DIR... --out
 * DIR`: text, JSONL and parquet corpora into llm.c token shards, once, so training reads tokens
 * instead of text; on one machine or fanned out over many (see `prepare-merge.ts`).
 *
 * Streams: inputs are read as documents (`prepare-inputs.ts`: a text file is one, a JSONL line
 * or a parquet row one each), never a whole file at a time. Short documents are encoded in
 * batches, a long one in pieces cut only where the tokenizer would cut anyway, so memory is one
 * batch or piece of text, one parquet row group and one shard of tokens, whatever the corpus
 * size. Each document is preceded by `<|endoftext|>` as llm.c's preprocessing does; text is
 * encoded "ordinary" (a literal `<|endoftext|>` in the text is plain text). The first
 * `--val-fraction` of the input bytes goes to the `val` split (llm.c's fineweb: shard 0 is val),
 * the rest to `train`; a piece of text across that line has its tokens split in proportion, so
 * val is about that fraction of the tokens. A document with no line break is held whole until its
 * end (there is no safe place to cut it before).
 */
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { ShardWriter, type WrittenShard } from "@tfgpt/datasets/node";
import { BpeTokenizer, getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import { ParallelEncoder, findSafeCuts } from "@tfgpt/tokenizers/node";
import { z } from "zod";
import { CliError, UsageError } from "./errors.js";
import type { CommandIO } from "./io.js";
import { choiceFlag, integerFlag, newlineFlag, numberFlag, stringFlag } from "./options.js";
import { type DocumentSink, type InputUnit, listInputs, listUnits, readUnit } from "./prepare-inputs.js";
import {
  type JournalProgress,
  jobDifference,
  manifestPath,
  readJournal,
  readJournalProgress,
  writeJournal,
  writeManifest,
  type PrepareJob,
} from "./prepare-manifest.js";
import { renderBar } from "./progress.js";

/** Characters of text encoded per call (per worker when parallel). */
const PIECE_CHARS = 1 << 20;
/** A piece is cut at a safe position within its last this many characters. */
const CUT_WINDOW = 1 << 16;

/** The validated config of `tfgpt prepare`. */
export const PrepareConfigSchema = z.object({
  /** Text files and directories (each `.txt` file in a directory is a document). */
  files: z.array(stringFlag("FILE")).min(1, { message: "missing FILE|DIR" }),
  /** Output directory (created if missing). */
  out: stringFlag("out"),
  /** Tokenizer registry name. Default `"gpt2"`. */
  encoding: stringFlag("encoding").default("gpt2"),
  /** Tokens per shard. Default 100,000,000 (llm.c's fineweb shards). */
  shardTokens: integerFlag("shard-tokens", 1, 2 ** 31 - 1).default(100_000_000),
  /** Fraction of the input (by bytes, from the start) written as the val split. Default 0.1. */
  valFraction: numberFlag("val-fraction", { min: 0, max: 0.5 }).default(0.1),
  /** Worker threads for encoding; 1 encodes in this thread. Default 1. */
  workers: integerFlag("workers", 1, 64).default(1),
  /** `llmc` shards (default) or nanoGPT's headerless `train.bin`/`val.bin`. */
  format: choiceFlag("format", ["llmc", "nanogpt"]).default("llmc"),
  /** Shard name prefix. Default: the first input's name without extension. */
  prefix: stringFlag("prefix").optional(),
  /** Newline handling when reading. Default `"lf"` (as Python reads text). */
  newline: newlineFlag.default("lf"),
  /** Continue the unfinished job in `out` (same inputs and settings). Default false. */
  resume: z.boolean().default(false),
  /** The JSONL field / parquet column holding each document's text. Default `"text"`. */
  textField: stringFlag("text-field").default("text"),
  /** Count and skip JSONL lines that are not JSON (or parquet rows without text). Default false. */
  skipBadLines: z.boolean().default(false),
  /** This process's rank in a fan-out (default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, else 0). */
  rank: integerFlag("rank", 0, 1_000_000).optional(),
  /** Processes in the fan-out (default: SLURM_ARRAY_TASK_COUNT, else 1). */
  worldSize: integerFlag("world-size", 1, 1_000_000).optional(),
  /** Join the rank directories given as inputs into `out` (checks their manifests). */
  merge: z.boolean().default(false),
  /** Input bytes between resume points (not a CLI flag: tests use small ones). Default 256 MiB. */
  checkpointBytes: z.number().int().min(1).default(256 << 20),
  /** The environment rank and world size are read from (not a CLI flag; default `process.env`). */
  env: z.record(z.string(), z.string().optional()).optional(),
  /** Characters encoded per call and worker (not a CLI flag: tests use small pieces). Default 1 MiB. */
  pieceChars: z.number().int().min(1024).default(PIECE_CHARS),
});
export type PrepareConfig = z.output<typeof PrepareConfigSchema>;

/** What `runPrepare` wrote. */
export interface PrepareResult {
  readonly files: WrittenShard[];
  readonly tokens: number;
  readonly documents: number;
  readonly bytes: number;
  /** JSONL lines / parquet rows skipped under `--skip-bad-lines`. */
  readonly skipped: number;
}

/**
 * Where `text` may be cut without changing its ids, as late as possible but leaving the end (which
 * may continue in the next chunk) alone; -1 when there is none yet.
 */
function lastSafeCut(text: string, tokenizer: Tokenizer): number {
  const from = Math.max(1, text.length - Math.min(CUT_WINDOW, text.length >> 1));
  if (tokenizer instanceof BpeTokenizer) {
    const cuts = findSafeCuts(text, tokenizer.core.pattern, [...tokenizer.specialTokens.keys()], from);
    return cuts[0] ?? -1;
  }
  // Other tokenizers (byte, simple) split at whitespace: cutting after a line break is safe.
  const nl = text.lastIndexOf("\n", text.length - 2);
  return nl >= 0 ? nl + 1 : -1;
}

/** A live bar on a terminal; otherwise a line every 10% and at the end. */
class PrepareProgress {
  private lastTenth = -1;
  constructor(
    private readonly io: CommandIO,
    private readonly totalBytes: number,
  ) {}

  update(bytes: number, tokens: number, shards: number, final = false): void {
    const fraction = this.totalBytes === 0 ? 1 : bytes / this.totalBytes;
    const text = `${bytes.toLocaleString("en-US")}/${this.totalBytes.toLocaleString("en-US")} bytes (${Math.floor(fraction * 100)}%), ${tokens.toLocaleString("en-US")} tokens, ${shards} shard${shards === 1 ? "" : "s"} written`;
    if (this.io.stderr.isTTY) {
      this.io.stderr.write(`\r\x1b[2K${renderBar(fraction, 30)} ${text}${final ? "\n" : ""}`);
      return;
    }
    const tenth = Math.floor(fraction * 10);
    // 100% is reported once, by the final line (with the last piece's tokens).
    if (final || (tenth > this.lastTenth && tenth < 10)) {
      this.lastTenth = tenth;
      this.io.stderr.write(`prepare: ${text}\n`);
    }
  }
}

/** Rank and world size from the flags, else a Slurm array's or a Kubernetes Indexed Job's environment. */
export function resolveRank(
  config: Pick<PrepareConfig, "rank" | "worldSize">,
  env: Record<string, string | undefined>,
): { rank: number; worldSize: number; from: string } {
  const int = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined || v === "") return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a non-negative integer, received ${JSON.stringify(v)}`);
    return Number(v);
  };
  let rank = config.rank;
  let worldSize = config.worldSize;
  let from = "flags";
  if (rank === undefined) {
    const slurm = int("SLURM_ARRAY_TASK_ID", env.SLURM_ARRAY_TASK_ID);
    const k8s = int("JOB_COMPLETION_INDEX", env.JOB_COMPLETION_INDEX);
    if (slurm !== undefined) {
      rank = slurm - (int("SLURM_ARRAY_TASK_MIN", env.SLURM_ARRAY_TASK_MIN) ?? 0);
      worldSize ??= int("SLURM_ARRAY_TASK_COUNT", env.SLURM_ARRAY_TASK_COUNT);
      from = "SLURM_ARRAY_TASK_ID";
    } else if (k8s !== undefined) {
      rank = k8s;
      from = "JOB_COMPLETION_INDEX";
    }
  }
  if (rank === undefined && worldSize === undefined) return { rank: 0, worldSize: 1, from: "none" };
  if (rank === undefined) throw new UsageError(`\`--world-size\` ${worldSize} needs \`--rank\` (or SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX)`);
  if (worldSize === undefined) throw new UsageError(`\`--rank\` ${rank} (from ${from}) needs \`--world-size\` (or SLURM_ARRAY_TASK_COUNT)`);
  if (rank < 0 || rank >= worldSize) throw new UsageError(`\`--rank\` must be in [0, ${worldSize}) for --world-size ${worldSize}, received ${rank} (from ${from})`);
  return { rank, worldSize, from };
}

/** The contiguous, disjoint share of `count` units that `rank` of `worldSize` takes: [start, end). */
export function rankShare(count: number, rank: number, worldSize: number): [number, number] {
  return [Math.floor((rank * count) / worldSize), Math.floor(((rank + 1) * count) / worldSize)];
}

/** The shard prefix of one rank of a fan-out: `<prefix>-r<RRRRR>`. */
export function rankPrefix(prefix: string, rank: number): string {
  return `${prefix}-r${String(rank).padStart(5, "0")}`;
}

/**
 * Tokenizes the inputs into shards in `config.out` and prints the files written (one per line:
 * path and token count) on stdout, progress on stderr.
 *
 * Fan-out: with a world size W > 1 the inputs (all of them, sorted) are cut into units (files,
 * or parquet row groups when there are fewer files than ranks) and this rank encodes the
 * contiguous share `rankShare`, under the prefix `rankPrefix`, with its own manifest recording
 * the units it did; `tfgpt prepare --merge` checks and joins the ranks' manifests.
 *
 * Resume: with `llmc` shards the job closes its shards at the end of a unit once
 * `checkpointBytes` of input were read since the last such point and records the finished units
 * in its journal; `--resume` keeps those shards and encodes only the units after them.
 *
 * @throws CliError for missing or bad inputs (naming the file and line or row group) or an
 *   `--out` that already holds shards of this prefix; UsageError for an encoding without
 *   `<|endoftext|>`; the tokenizers' error for an unknown encoding.
 * @example await runPrepare(PrepareConfigSchema.parse({ files: ["pg84.txt"], out: "data/pg84" }), io);
 */
export async function runPrepare(config: PrepareConfig, io: CommandIO): Promise<PrepareResult> {
  if (config.merge) {
    const { runMerge } = await import("./prepare-merge.js");
    return runMerge(config, io);
  }
  const tokenizer = getTokenizer(config.encoding);
  const eot = tokenizer.specialTokens.get("<|endoftext|>");
  if (eot === undefined) {
    throw new UsageError(`\`--encoding\` ${config.encoding} has no <|endoftext|> token to separate documents with`);
  }
  const { rank, worldSize } = resolveRank(config, config.env ?? process.env);
  if (worldSize > 1 && config.format === "nanogpt") {
    throw new UsageError("`--format` nanogpt writes one train.bin and val.bin: use llmc shards with --world-size > 1 (both are read as uint16/uint32 tokens)");
  }
  const inputs = await listInputs(config.files);
  const first = config.files[0] as string;
  const basePrefix = config.prefix ?? path.basename(first).replace(/\.(jsonl|json)\.gz$/, "").replace(/\.[^.]*$/, "").replace(/[^\w.-]/g, "_");
  const prefix = worldSize > 1 ? rankPrefix(basePrefix, rank) : basePrefix;
  const allUnits = await listUnits(inputs, worldSize > 1 && inputs.length < worldSize);
  const [from, to] = rankShare(allUnits.length, rank, worldSize);
  const units = allUnits.slice(from, to);
  const totalAll = allUnits.reduce((sum, u) => sum + u.size, 0);
  if (totalAll === 0) throw new CliError(`no text to prepare: ${config.files.join(", ")} ${inputs.length === 1 ? "is" : "are"} empty`);
  const job: PrepareJob = {
    encoding: config.encoding,
    format: config.format,
    prefix,
    shardTokens: config.shardTokens,
    valFraction: config.valFraction,
    newline: config.newline,
    textField: config.textField,
    ...(worldSize > 1 ? { rank, worldSize, basePrefix, units: units.map((u) => u.id), unitCount: allUnits.length } : {}),
    inputs: inputs.map((d) => ({ file: path.resolve(d.file), size: d.size, mtimeMs: d.mtimeMs })),
  };
  await mkdir(config.out, { recursive: true });
  const ours = (n: string) =>
    config.format === "nanogpt" ? /^(train|val)\.bin(\.tmp-\w+)?$/.test(n) : n.startsWith(`${prefix}_`) && /\.bin(\.tmp-\w+)?$/.test(n);
  const journal = await readJournal(config.out, prefix);
  let progressState: JournalProgress = { unitsDone: 0, shards: [], position: 0, tokens: 0, documents: 0, skipped: 0 };
  if (config.resume) {
    if (journal === undefined) {
      const done = await stat(manifestPath(config.out, prefix)).then(() => true, () => false);
      throw new CliError(`\`--resume\`: ${config.out} has no unfinished prepare of ${prefix}${done ? " (it is complete)" : ""}`);
    }
    const difference = jobDifference(journal, job);
    if (difference !== undefined) throw new UsageError(`\`--resume\`: the unfinished job in ${config.out} differs (${difference})`);
    const saved = await readJournalProgress(config.out, prefix);
    // Shards of finished units stay (if intact); everything written after them is redone.
    const kept = new Set<string>();
    if (saved !== undefined && config.format === "llmc") {
      let intact = true;
      for (const s of saved.shards) {
        const size = await stat(path.join(config.out, s.file)).then((x) => x.size, () => -1);
        if (size !== s.bytes) intact = false;
      }
      if (intact) {
        progressState = saved;
        for (const s of saved.shards) kept.add(s.file);
      }
    }
    for (const n of await readdir(config.out)) if (ours(n) && !kept.has(n)) await rm(path.join(config.out, n), { force: true });
    io.stderr.write(
      `prepare: continuing the unfinished job in ${config.out}: ${progressState.unitsDone} of ${units.length} input unit${units.length === 1 ? "" : "s"} already done, ${progressState.shards.length} shard${progressState.shards.length === 1 ? "" : "s"} kept\n`,
    );
  } else if (journal !== undefined) {
    throw new CliError(`\`--out\` ${config.out} holds an unfinished prepare of ${prefix}: continue it with --resume (same inputs and flags)`);
  } else {
    const clash = (await readdir(config.out)).find((n) => ours(n) && n.endsWith(".bin"));
    if (clash !== undefined) {
      throw new CliError(`\`--out\` ${config.out} already holds ${clash}: remove the old shards or choose another --out or --prefix`);
    }
  }
  await writeJournal(config.out, job, progressState);
  const newWriter = (firstIndex: number) =>
    new ShardWriter({ outDir: config.out, prefix, vocabSize: tokenizer.vocabSize, shardTokens: config.shardTokens, format: config.format, firstIndex });
  let writer = newWriter(progressState.shards.length);
  const encoder = config.workers > 1 ? new ParallelEncoder({ encoding: config.encoding, workers: config.workers }) : undefined;
  const ordinary = { allowedSpecial: [], disallowedSpecial: [] } as const;
  const encode = async (text: string): Promise<ArrayLike<number>> =>
    encoder ? encoder.encode(text, ordinary) : tokenizer.encode(text, ordinary);

  const totalBytes = units.reduce((sum, u) => sum + u.size, 0);
  const valBytes = config.valFraction * totalBytes;
  const progress = new PrepareProgress(io, totalBytes);
  let position = progressState.position; // input bytes encoded so far: where we are for the val split
  let tokens = progressState.tokens;
  let documents = progressState.documents;
  let skipped = progressState.skipped;
  const doneShards: { path: string; split: "train" | "val"; tokens: number }[] = progressState.shards.map((s) => ({
    path: path.join(config.out, s.file),
    split: s.split,
    tokens: s.tokens,
  }));
  const emit = (ids: ArrayLike<number>, pieceBytes: number) => {
    // The val split is the first `valBytes` input bytes; a piece across the line is cut proportionally.
    const start = position;
    const end = position + pieceBytes;
    const valCount =
      start >= valBytes ? 0 : end <= valBytes ? ids.length : Math.round((ids.length * (valBytes - start)) / Math.max(1, pieceBytes));
    const part = (a: number, b: number) =>
      ArrayBuffer.isView(ids) ? (ids as Int32Array).subarray(a, b) : Array.prototype.slice.call(ids, a, b);
    if (valCount > 0) writer.write(part(0, valCount), "val");
    if (valCount < ids.length) writer.write(part(valCount, ids.length), "train");
    position = end;
    tokens += ids.length;
  };
  const pieceChars = config.pieceChars * config.workers;
  // The open document's text not yet encoded, and the input bytes it stands for.
  let pending = "";
  let pendingBytes = 0;
  let docOpen = false;
  /** Whether the open document was too long to batch: its <|endoftext|> and first pieces are out. */
  let partial = false;
  // Whole short documents waiting to be encoded together (one encodeBatch over the workers).
  let batch: { text: string; bytes: number; eot: boolean }[] = [];
  let batchChars = 0;
  const drain = async () => {
    if (batch.length === 0) return;
    const docs = batch;
    batch = [];
    batchChars = 0;
    const texts = docs.map((d) => d.text);
    const ids = encoder ? await encoder.encodeBatch(texts, ordinary) : texts.map((t) => tokenizer.encode(t, ordinary));
    for (const [i, d] of docs.entries()) {
      if (d.eot) emit([eot], 0);
      emit(ids[i] as ArrayLike<number>, d.bytes);
    }
  };
  /** Encodes the open long document's text up to its last safe cut (`all`: all of it). */
  const flush = async (all: boolean) => {
    while (pending.length > 0) {
      const cut = all ? pending.length : lastSafeCut(pending, tokenizer);
      if (cut <= 0) return;
      const piece = pending.slice(0, cut);
      // The input bytes of the pending text go with it in proportion to its characters.
      const bytes = cut === pending.length ? pendingBytes : Math.round((pendingBytes * cut) / pending.length);
      pending = pending.slice(cut);
      pendingBytes -= bytes;
      emit(await encode(piece), bytes);
      if (!all) return;
    }
    if (all && pendingBytes > 0) {
      position += pendingBytes;
      pendingBytes = 0;
    }
  };
  /** Ends the open document: a short one joins the batch, a long one is encoded to its end. */
  const endDocument = async () => {
    if (partial) await flush(true);
    else if (docOpen || pendingBytes > 0) {
      batch.push({ text: pending, bytes: pendingBytes, eot: docOpen });
      batchChars += pending.length + 64;
      if (batchChars >= pieceChars) await drain();
    }
    pending = "";
    pendingBytes = 0;
    docOpen = false;
    partial = false;
  };
  let skipReports = 0;
  const sink: DocumentSink = {
    startDocument: async () => {
      await endDocument();
      docOpen = true;
      documents++;
    },
    text: async (text, bytes) => {
      pending += text;
      pendingBytes += bytes;
      if (pending.length >= pieceChars) {
        if (!partial) {
          // Too long to batch: what is batched goes first, then this document in pieces.
          await drain();
          if (docOpen) emit([eot], 0);
          partial = true;
        }
        await flush(false);
      }
      if (io.signal?.aborted) throw new CliError(`interrupted; the shards so far are kept but unfinished: continue with the same command and --resume`);
      progress.update(Math.min(position + pendingBytes, totalBytes), tokens, doneShards.length + writer.writtenCount);
    },
    skipped: (where, why) => {
      skipped++;
      if (skipReports++ < 5) io.stderr.write(`prepare: skipped ${where}: ${why}\n`);
    },
  };
  const readOptions = { textField: config.textField, newline: config.newline, skipBadLines: config.skipBadLines };
  let sinceCheckpoint = 0;
  try {
    for (let u = progressState.unitsDone; u < units.length; u++) {
      const unit = units[u] as InputUnit;
      const unitStart = position + pendingBytes;
      await readUnit(unit, readOptions, sink);
      await endDocument();
      await drain();
      // Exactly the unit's end, whatever rounding the pieces had.
      position = unitStart + unit.size;
      sinceCheckpoint += unit.size;
      if (config.format === "llmc" && sinceCheckpoint >= config.checkpointBytes && u + 1 < units.length) {
        // Close the open shards so that the units so far are finished for good.
        doneShards.push(...writer.finish());
        writer = newWriter(doneShards.length);
        sinceCheckpoint = 0;
        const shards = [];
        for (const f of doneShards) shards.push({ file: path.basename(f.path), split: f.split, tokens: f.tokens, bytes: (await stat(f.path)).size });
        await writeJournal(config.out, job, { unitsDone: u + 1, shards, position, tokens, documents, skipped });
      }
    }
    const files = [...doneShards, ...writer.finish()];
    const manifest = await writeManifest(config.out, job, { name: tokenizer.name, vocabSize: tokenizer.vocabSize }, files, documents, skipped);
    progress.update(totalBytes, tokens, files.length, true);
    for (const f of files) io.stdout.write(`${f.path}\t${f.split}\t${f.tokens} tokens\n`);
    const share = worldSize > 1 ? ` (rank ${rank} of ${worldSize}: ${units.length} of ${allUnits.length} input units)` : "";
    io.stderr.write(
      `prepared ${tokens.toLocaleString("en-US")} tokens (${tokenizer.name}) from ${documents.toLocaleString("en-US")} document${documents === 1 ? "" : "s"}${share} into ${files.length} file${files.length === 1 ? "" : "s"} in ${config.out}${skipped > 0 ? `; skipped ${skipped} bad line${skipped === 1 ? "" : "s"}/row${skipped === 1 ? "" : "s"}` : ""}; manifest ${manifest}; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB\n`,
    );
    return { files, tokens, documents, bytes: totalBytes, skipped };
  } catch (err) {
    writer.abort();
    throw err;
  } finally {
    await encoder?.close();
  }
}
