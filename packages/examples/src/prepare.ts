/**
 * `tfgpt prepare FILE|DIR... --out DIR [--encoding gpt2] [--shard-tokens N] [--val-fraction X]
 * [--workers N] [--format llmc|nanogpt] [--prefix NAME] [--newline lf|keep]`: text corpora into
 * llm.c token shards, once, so training reads tokens instead of text.
 *
 * Streams: files are read in 1 MiB chunks, decoded incrementally and encoded in pieces cut only
 * where the tokenizer would cut anyway, so memory is one piece of text plus one shard of tokens,
 * whatever the corpus size. Each input file (or every `.txt` file of an input directory, sorted)
 * is one document, preceded by `<|endoftext|>` as llm.c's preprocessing does; text is encoded
 * "ordinary" (a literal `<|endoftext|>` in the text is plain text). The first `--val-fraction` of
 * the input bytes goes to the `val` split (llm.c's fineweb: shard 0 is val), the rest to `train`;
 * a piece of text across that line has its tokens split in proportion, so val is about that
 * fraction of the tokens. A document with no line break is held whole until its end (there is no
 * safe place to cut it before).
 */
import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { ShardWriter, type WrittenShard } from "@tfgpt/datasets/node";
import { BpeTokenizer, getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import { ParallelEncoder, findSafeCuts } from "@tfgpt/tokenizers/node";
import { z } from "zod";
import { CliError, UsageError } from "./errors.js";
import type { CommandIO } from "./io.js";
import { choiceFlag, integerFlag, newlineFlag, numberFlag, stringFlag } from "./options.js";
import { jobDifference, manifestPath, readJournal, writeJournal, writeManifest, type PrepareJob } from "./prepare-manifest.js";
import { renderBar } from "./progress.js";

/** Bytes read from a file at a time. */
const READ_BYTES = 1 << 20;
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
}

/** Input files with their sizes: a file is itself, a directory its `.txt` files sorted by name. */
async function listDocuments(inputs: readonly string[]): Promise<{ file: string; size: number }[]> {
  const docs: { file: string; size: number }[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch {
      throw new CliError(`${input}: no such file or directory`);
    }
    if (info.isDirectory()) {
      const names = (await readdir(input)).filter((n) => n.endsWith(".txt")).sort();
      if (names.length === 0) throw new CliError(`${input}: no .txt files in this directory`);
      for (const name of names) docs.push({ file: path.join(input, name), size: (await stat(path.join(input, name))).size });
    } else {
      docs.push({ file: input, size: info.size });
    }
  }
  return docs;
}

/**
 * Decodes a file chunk by chunk (UTF-8, BOM kept as U+FEFF, invalid bytes as U+FFFD, like
 * `readText`), with Python's newline handling for `"lf"`; calls `onText` with each piece and the
 * number of file bytes it came from.
 */
async function readChunks(file: string, newline: "lf" | "keep", onText: (text: string, bytes: number) => Promise<void>): Promise<void> {
  const handle = await open(file, "r");
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const buffer = new Uint8Array(READ_BYTES);
  let carryCR = "";
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, null);
      const last = bytesRead === 0;
      let text = carryCR + (last ? decoder.decode() : decoder.decode(buffer.subarray(0, bytesRead), { stream: true }));
      carryCR = "";
      if (newline === "lf") {
        // A "\r" at a chunk's end may be the first half of "\r\n": decide with the next chunk.
        if (!last && text.endsWith("\r")) {
          carryCR = "\r";
          text = text.slice(0, -1);
        }
        text = text.replace(/\r\n?/g, "\n");
      }
      await onText(text, bytesRead);
      if (last) return;
    }
  } finally {
    await handle.close();
  }
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

/**
 * Tokenizes the inputs into shards in `config.out` and prints the files written (one per line:
 * path and token count) on stdout, progress on stderr.
 *
 * @throws CliError for missing inputs or an `--out` that already holds shards of this prefix;
 *   UsageError for an encoding without `<|endoftext|>`; the tokenizers' error for an unknown encoding.
 * @example await runPrepare(PrepareConfigSchema.parse({ files: ["pg84.txt"], out: "data/pg84" }), io);
 */
export async function runPrepare(config: PrepareConfig, io: CommandIO): Promise<PrepareResult> {
  const tokenizer = getTokenizer(config.encoding);
  const eot = tokenizer.specialTokens.get("<|endoftext|>");
  if (eot === undefined) {
    throw new UsageError(`\`--encoding\` ${config.encoding} has no <|endoftext|> token to separate documents with`);
  }
  const docs = await listDocuments(config.files);
  const first = config.files[0] as string;
  const prefix = config.prefix ?? path.basename(first).replace(/\.[^.]*$/, "").replace(/[^\w.-]/g, "_");
  const totalInputBytes = docs.reduce((sum, d) => sum + d.size, 0);
  if (totalInputBytes === 0) throw new CliError(`no text to prepare: ${config.files.join(", ")} ${docs.length === 1 ? "is" : "are"} empty`);
  const job: PrepareJob = {
    encoding: config.encoding,
    format: config.format,
    prefix,
    shardTokens: config.shardTokens,
    valFraction: config.valFraction,
    newline: config.newline,
    inputs: await Promise.all(docs.map(async (d) => ({ file: path.resolve(d.file), size: d.size, mtimeMs: (await stat(d.file)).mtimeMs }))),
  };
  await mkdir(config.out, { recursive: true });
  const ours = (n: string) =>
    config.format === "nanogpt" ? /^(train|val)\.bin(\.tmp-\w+)?$/.test(n) : n.startsWith(`${prefix}_`) && /\.bin(\.tmp-\w+)?$/.test(n);
  const journal = await readJournal(config.out, prefix);
  if (config.resume) {
    if (journal === undefined) {
      const done = await stat(manifestPath(config.out, prefix)).then(() => true, () => false);
      throw new CliError(`\`--resume\`: ${config.out} has no unfinished prepare of ${prefix}${done ? " (it is complete)" : ""}`);
    }
    const difference = jobDifference(journal, job);
    if (difference !== undefined) throw new UsageError(`\`--resume\`: the unfinished job in ${config.out} differs (${difference})`);
    // Encoding is deterministic: the job is redone with the same settings over its partial shards.
    for (const n of await readdir(config.out)) if (ours(n)) await rm(path.join(config.out, n), { force: true });
    io.stderr.write(`prepare: continuing the unfinished job in ${config.out}\n`);
  } else if (journal !== undefined) {
    throw new CliError(`\`--out\` ${config.out} holds an unfinished prepare of ${prefix}: continue it with --resume (same inputs and flags)`);
  }
  const clash = (await readdir(config.out)).find((n) => ours(n) && n.endsWith(".bin"));
  if (clash !== undefined) {
    throw new CliError(`\`--out\` ${config.out} already holds ${clash}: remove the old shards or choose another --out or --prefix`);
  }
  await writeJournal(config.out, job);
  const writer = new ShardWriter({
    outDir: config.out,
    prefix,
    vocabSize: tokenizer.vocabSize,
    shardTokens: config.shardTokens,
    format: config.format,
  });
  const encoder = config.workers > 1 ? new ParallelEncoder({ encoding: config.encoding, workers: config.workers }) : undefined;
  const ordinary = { allowedSpecial: [], disallowedSpecial: [] } as const;
  const encode = async (text: string): Promise<ArrayLike<number>> =>
    encoder ? encoder.encode(text, ordinary) : tokenizer.encode(text, ordinary);

  const totalBytes = docs.reduce((sum, d) => sum + d.size, 0);
  const valBytes = config.valFraction * totalBytes;
  const progress = new PrepareProgress(io, totalBytes);
  let bytesRead = 0;
  let textBytes = 0; // UTF-8 bytes of the text encoded so far: where we are for the val split
  let tokens = 0;
  let shards = 0;
  const emit = (ids: ArrayLike<number>, pieceBytes: number) => {
    // The val split is the first `valBytes` bytes; a piece across the line is cut proportionally.
    const start = textBytes;
    const end = textBytes + pieceBytes;
    const valCount =
      start >= valBytes ? 0 : end <= valBytes ? ids.length : Math.round((ids.length * (valBytes - start)) / Math.max(1, pieceBytes));
    const part = (from: number, to: number) =>
      ArrayBuffer.isView(ids) ? (ids as Int32Array).subarray(from, to) : Array.prototype.slice.call(ids, from, to);
    if (valCount > 0) writer.write(part(0, valCount), "val");
    if (valCount < ids.length) writer.write(part(valCount, ids.length), "train");
    textBytes = end;
    tokens += ids.length;
  };
  const pieceChars = config.pieceChars * config.workers;
  try {
    for (const doc of docs) {
      if (doc.size === 0) continue; // an empty file is no document (not a lone <|endoftext|>)
      emit([eot], 0);
      let pending = "";
      const flush = async (all: boolean) => {
        while (pending.length > 0) {
          const cut = all ? pending.length : lastSafeCut(pending, tokenizer);
          if (cut <= 0) return;
          const piece = pending.slice(0, cut);
          pending = pending.slice(cut);
          emit(await encode(piece), Buffer.byteLength(piece));
          if (!all) return;
        }
      };
      await readChunks(doc.file, config.newline, async (text, bytes) => {
        pending += text;
        bytesRead += bytes;
        if (pending.length >= pieceChars) await flush(false);
        if (io.signal?.aborted) throw new CliError(`interrupted; the shards so far are kept but unfinished: continue with the same command and --resume`);
        shards = writer.writtenCount;
        progress.update(bytesRead, tokens, shards);
      });
      await flush(true);
    }
    const files = writer.finish();
    const manifest = await writeManifest(config.out, job, { name: tokenizer.name, vocabSize: tokenizer.vocabSize }, files, docs.filter((d) => d.size > 0).length);
    progress.update(bytesRead, tokens, files.length, true);
    for (const f of files) io.stdout.write(`${f.path}\t${f.split}\t${f.tokens} tokens\n`);
    io.stderr.write(
      `prepared ${tokens.toLocaleString("en-US")} tokens (${tokenizer.name}) from ${docs.length} document${docs.length === 1 ? "" : "s"} into ${files.length} file${files.length === 1 ? "" : "s"} in ${config.out}; manifest ${manifest}\n`,
    );
    return { files, tokens, documents: docs.length, bytes: bytesRead };
  } catch (err) {
    writer.abort();
    throw err;
  } finally {
    await encoder?.close();
  }
}
