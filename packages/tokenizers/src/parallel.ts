/**
 * Encoding large texts on several threads (Node only: `worker_threads`). The text is cut only
 * where the pre-tokenizer would cut anyway, so the ids are identical to `tokenizer.encode(text)`.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import { BpeTokenizer } from "./bpe-tokenizer.js";
import { TokenizerError } from "./errors.js";
import { parseOptions, positiveInt } from "./options.js";
import type { EncodeRequest, EncodeResponse, EncodeWorkerData } from "./parallel-worker.js";
import { readText } from "./read-text.js";
import { compileTiktokenRegex } from "./tiktoken-regex.js";
import { unicodeTable, WHITE_SPACE_BIT } from "./unicode.js";
import { getTokenizer } from "./registry.js";
import { assertNoDisallowedSpecial, resolveSpecialTokens } from "./special-tokens.js";
import type { EncodeOptions, TokenizerSpec } from "./tokenizer.js";
import "./tokenizer-files-node.js"; // installs the file reader of getTokenizer("bpe", { path })

/** How far (in UTF-16 units) before a candidate cut the regex is re-run to verify it. */
const VERIFY_LOOKBACK = 256;

const TokenizerSpecSchema = z.strictObject({
  name: z.string().min(1),
  options: z.record(z.string(), z.unknown()).optional(),
});

/** zod schema of `ParallelEncoderOptions`. */
export const ParallelEncoderOptionsSchema = z.strictObject({
  /** A registry name, e.g. `"gpt2"`. Default `"gpt2"` when `tokenizer` is not given either. */
  encoding: z.string().min(1, { error: "must be a tokenizer name" }).optional(),
  /**
   * The tokenizer: a `BpeTokenizer` (its `spec` is what the workers rebuild) or a spec
   * `{ name, options }`. Exclusive with `encoding`.
   */
  tokenizer: z
    .union([
      z.custom<BpeTokenizer>((v) => v instanceof BpeTokenizer),
      TokenizerSpecSchema,
    ], { error: "must be a BpeTokenizer or a tokenizer spec {name, options}" })
    .optional(),
  /** Threads that encode, this one included (`workers - 1` worker threads are started). Default 2. */
  workers: positiveInt().default(2),
  /** Most UTF-16 units per chunk sent to a worker (cuts move forward to a safe position). Default 262,144. */
  chunkSize: positiveInt().default(1 << 18),
});

/** Options of `ParallelEncoder`, `encodeParallel` and `encodeFile`. */
export type ParallelEncoderOptions = z.input<typeof ParallelEncoderOptionsSchema>;

/**
 * A pool of worker threads that encode with one BPE tokenizer. Each worker builds the tokenizer
 * from its `spec` once; `encode` cuts the text into chunks at positions where the pre-tokenizer
 * regex starts a match anyway (after a `"\n"` followed by a non-space, checked by re-running the
 * regex from a little before; never inside a special token), hands them out to idle workers,
 * encodes chunks itself between their answers (on 2 cores, 1 worker + this thread beats 2 workers
 * and an idle dispatcher: this thread's share is never copied) and joins the ids in order. A text with no such position is encoded as one chunk.
 *
 * Workers are unref'd while idle, so a forgotten pool does not keep the process alive; call
 * `close()` to free them.
 *
 * @example
 * ```ts
 * const pool = new ParallelEncoder({ encoding: "gpt2", workers: 2 });
 * const ids = await pool.encode(bigText); // Int32Array, equal to getTokenizer("gpt2").encode(bigText)
 * await pool.close();
 * ```
 */
export class ParallelEncoder {
  /** The tokenizer (in this thread; used for the special-token rule and the cut positions). */
  readonly tokenizer: BpeTokenizer;
  /** Number of threads that encode: this one and `workers - 1` worker threads. */
  readonly workers: number;
  /** Most UTF-16 units per chunk. */
  readonly chunkSize: number;

  private readonly pool: Worker[] = [];
  private readonly inFlight: number[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (response: { ids: Int32Array; lengths?: Int32Array }) => void; reject: (error: Error) => void; worker: number }
  >();
  private nextId = 0;
  private closed = false;

  constructor(options: ParallelEncoderOptions = {}) {
    const opts = parseOptions(ParallelEncoderOptionsSchema, options, "ParallelEncoder");
    if (opts.encoding !== undefined && opts.tokenizer !== undefined) {
      throw new TokenizerError(
        `\`encoding\` and \`tokenizer\` are exclusive, received encoding ${JSON.stringify(opts.encoding)} and a tokenizer`,
        "encoding",
      );
    }
    const tok =
      opts.tokenizer instanceof BpeTokenizer
        ? opts.tokenizer
        : opts.tokenizer !== undefined
          ? getTokenizer(opts.tokenizer.name, opts.tokenizer.options)
          : getTokenizer(opts.encoding ?? "gpt2");
    if (!(tok instanceof BpeTokenizer)) {
      throw new TokenizerError(
        `\`tokenizer\` must be a BPE tokenizer (its pre-tokenizer regex tells where the text may be cut), received ${JSON.stringify(tok.name)}`,
        "tokenizer",
      );
    }
    this.tokenizer = tok;
    this.workers = opts.workers;
    this.chunkSize = opts.chunkSize;
    const workerData: EncodeWorkerData = { spec: tok.spec as TokenizerSpec };
    const script = workerScript();
    // Workers inherit the Node flags, but `--input-type` (set by `node -e`) makes them fail to start.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith("--input-type"));
    // This thread encodes a share itself, so `workers` threads in all means `workers - 1` worker threads.
    for (let w = 0; w < this.workers - 1; w++) {
      const worker = new Worker(script, { workerData, execArgv });
      worker.on("message", (response: EncodeResponse) => this.onResponse(response));
      worker.on("error", (error) => this.failWorker(w, error));
      worker.on("exit", (code) => {
        if (!this.closed) this.failWorker(w, new Error(`worker ${w} exited with code ${code}`));
      });
      worker.unref(); // after the listeners: adding a "message" listener refs the worker again
      this.pool.push(worker);
      this.inFlight.push(0);
    }
  }

  /**
   * Encodes `text` on the workers. Same ids as `this.tokenizer.encode(text, options)`, and the same
   * error for a disallowed special token (checked here, before any work is sent).
   *
   * @param text The text.
   * @param options `allowedSpecial` / `disallowedSpecial`, as for `Tokenizer.encode`.
   * @returns The ids as an `Int32Array`.
   */
  async encode(text: string, options?: EncodeOptions): Promise<Int32Array> {
    if (this.closed) throw new TokenizerError("this ParallelEncoder is closed");
    if (typeof text !== "string") throw new TokenizerError(`\`text\` must be a string, received ${typeof text}`, "text");
    const tok = this.tokenizer;
    const policy = resolveSpecialTokens(options, tok.specialTokens, tok.name);
    assertNoDisallowedSpecial(text, policy.disallowed, tok.name);
    // Cuts are found as chunks are handed out, so that this thread's share overlaps the workers'.
    const threads = this.pool.length + 1;
    const cuts = safeCuts(text, tok.core.pattern, [...tok.specialTokens.keys()], Math.min(this.chunkSize, Math.ceil(text.length / threads)));
    const results: Int32Array[] = [];
    let start = 0;
    let sent = 0;
    let done = 0;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const take = (): [index: number, chunk: string] => {
      const cut = cuts.next();
      const end = cut.done === true ? text.length : cut.value;
      const chunk = text.slice(start, end);
      start = end;
      return [sent++, chunk];
    };
    const finished = (): void => {
      done++;
      wake?.();
    };
    const dispatch = (w: number, limit: number): void => {
      while (failure === undefined && start < text.length && (this.inFlight[w] as number) < limit) {
        const [index, chunk] = take();
        this.send(w, chunk, undefined, options).then(
          ({ ids }) => {
            results[index] = ids;
            finished();
            dispatch(w, 2);
          },
          (error: Error) => {
            failure ??= error;
            finished();
          },
        );
      }
    };
    // One chunk per worker first, then a second each, so that a worker never waits for the next message.
    for (const limit of [1, 2]) for (let w = 0; w < this.pool.length; w++) dispatch(w, limit);
    // This thread encodes chunks too (no copy, no message); between chunks it lets the workers' answers in.
    while (failure === undefined && start < text.length) {
      const [index, chunk] = take();
      results[index] = tok.encodeToInt32(chunk, options);
      done++;
      if (start < text.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    while (done < sent) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    if (failure !== undefined) throw failure;
    let total = 0;
    for (const ids of results) total += ids.length;
    const out = new Int32Array(total);
    let at = 0;
    for (const ids of results) {
      out.set(ids, at);
      at += ids.length;
    }
    return out;
  }

  /**
   * Encodes many texts on the workers (tiktoken's `encode_batch`): each text is encoded whole, by
   * one thread; texts are sent in groups of about `chunkSize` UTF-16 units, so that many short
   * texts cost few messages. Same ids as `texts.map((t) => this.tokenizer.encode(t, options))`,
   * and the same error for a disallowed special token (checked here, before any work is sent).
   *
   * @param texts The texts.
   * @param options `allowedSpecial` / `disallowedSpecial`, as for `Tokenizer.encode`.
   * @returns The ids of each text, in order.
   */
  async encodeBatch(texts: readonly string[], options?: EncodeOptions): Promise<Int32Array[]> {
    if (this.closed) throw new TokenizerError("this ParallelEncoder is closed");
    if (!Array.isArray(texts) || texts.some((text) => typeof text !== "string")) {
      throw new TokenizerError("`texts` must be an array of strings", "texts");
    }
    const tok = this.tokenizer;
    const policy = resolveSpecialTokens(options, tok.specialTokens, tok.name);
    for (const text of texts) assertNoDisallowedSpecial(text, policy.disallowed, tok.name);
    // Groups of consecutive texts, about chunkSize units each (at least one text).
    const groups: [start: number, end: number][] = [];
    const threads = this.pool.length + 1;
    const total = texts.reduce((sum, text) => sum + text.length, 0);
    const target = Math.max(1, Math.min(this.chunkSize, Math.ceil(total / (2 * threads))));
    for (let start = 0; start < texts.length; ) {
      let end = start;
      let size = 0;
      while (end < texts.length && (end === start || size + (texts[end] as string).length <= target)) size += (texts[end++] as string).length;
      groups.push([start, end]);
      start = end;
    }
    const results: Int32Array[] = new Array<Int32Array>(texts.length);
    let next = 0;
    let done = 0;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const finished = (): void => {
      done++;
      wake?.();
    };
    const dispatch = (w: number, limit: number): void => {
      while (failure === undefined && next < groups.length && (this.inFlight[w] as number) < limit) {
        const [start, end] = groups[next++] as [number, number];
        this.send(w, "", texts.slice(start, end), options).then(
          ({ ids, lengths }) => {
            let at = 0;
            for (let i = start; i < end; i++) {
              const n = (lengths as Int32Array)[i - start] as number;
              results[i] = ids.subarray(at, at + n);
              at += n;
            }
            finished();
            dispatch(w, 2);
          },
          (error: Error) => {
            failure ??= error;
            finished();
          },
        );
      }
    };
    for (const limit of [1, 2]) for (let w = 0; w < this.pool.length; w++) dispatch(w, limit);
    while (failure === undefined && next < groups.length) {
      const [start, end] = groups[next++] as [number, number];
      for (let i = start; i < end; i++) results[i] = tok.encodeToInt32(texts[i] as string, options);
      done++;
      if (next < groups.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    while (done < next) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    if (failure !== undefined) throw failure;
    return results;
  }

  /** Terminates the workers. Pending `encode` calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [, job] of this.pending) job.reject(new TokenizerError("the ParallelEncoder was closed while encoding"));
    this.pending.clear();
    await Promise.all(this.pool.map((worker) => worker.terminate()));
  }

  private send(
    w: number,
    text: string,
    texts: readonly string[] | undefined,
    options: EncodeOptions | undefined,
  ): Promise<{ ids: Int32Array; lengths?: Int32Array }> {
    const worker = this.pool[w] as Worker;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w });
      if (this.inFlight[w] === 0) worker.ref(); // keep the process alive while work is pending
      this.inFlight[w] = (this.inFlight[w] as number) + 1;
      worker.postMessage((texts === undefined ? { id, text, options } : { id, text, texts, options }) satisfies EncodeRequest);
    });
  }

  private onResponse(response: EncodeResponse): void {
    const job = this.pending.get(response.id);
    if (job === undefined) return;
    this.pending.delete(response.id);
    const left = (this.inFlight[job.worker] as number) - 1;
    this.inFlight[job.worker] = left;
    if (left === 0) this.pool[job.worker]?.unref();
    if ("error" in response) job.reject(new TokenizerError(response.error));
    else job.resolve(response.lengths === undefined ? { ids: response.ids } : { ids: response.ids, lengths: response.lengths });
  }

  private failWorker(w: number, error: Error): void {
    for (const [id, job] of this.pending) {
      if (job.worker !== w) continue;
      this.pending.delete(id);
      job.reject(new TokenizerError(`encoding worker ${w} failed: ${error.message}`));
    }
    this.inFlight[w] = 0;
  }
}

/**
 * Encodes `text` on worker threads (a `ParallelEncoder` made for this call and closed after).
 * For many calls keep one `ParallelEncoder`: starting workers and loading ranks costs ~0.1-0.3 s.
 *
 * @param text The text.
 * @param options `encoding` (default `"gpt2"`) or `tokenizer`, `workers` (default 2),
 *   `chunkSize` (default 262,144), plus `allowedSpecial` / `disallowedSpecial`.
 * @returns The ids, identical to the single-threaded `encode`.
 * @example
 * ```ts
 * const ids = await encodeParallel(text, { encoding: "gpt2", workers: 2 });
 * ```
 */
export async function encodeParallel(text: string, options: ParallelEncoderOptions & EncodeOptions = {}): Promise<Int32Array> {
  const { allowedSpecial, disallowedSpecial, ...poolOptions } = options;
  const encoder = new ParallelEncoder(poolOptions);
  try {
    return await encoder.encode(text, definedOnly({ allowedSpecial, disallowedSpecial }));
  } finally {
    await encoder.close();
  }
}

/**
 * Encodes many texts on worker threads (tiktoken's `encode_batch`; a `ParallelEncoder` made for
 * this call and closed after). Each text's ids equal `tokenizer.encode(text)`.
 *
 * @param texts The texts.
 * @param options `encoding` (default `"gpt2"`) or `tokenizer`, `workers` (default 2), `chunkSize`
 *   (UTF-16 units per message, default 262,144), plus `allowedSpecial` / `disallowedSpecial`.
 * @example
 * ```ts
 * const [a, b] = await encodeBatch(["hello world", "goodbye"], { encoding: "cl100k_base" }); // Int32Arrays
 * ```
 */
export async function encodeBatch(texts: readonly string[], options: ParallelEncoderOptions & EncodeOptions = {}): Promise<Int32Array[]> {
  const { allowedSpecial, disallowedSpecial, ...poolOptions } = options;
  const encoder = new ParallelEncoder(poolOptions);
  try {
    return await encoder.encodeBatch(texts, definedOnly({ allowedSpecial, disallowedSpecial }));
  } finally {
    await encoder.close();
  }
}

/** Options of `encodeFile`: those of `encodeParallel` plus how newlines are read. */
export type EncodeFileOptions = ParallelEncoderOptions &
  EncodeOptions & {
    /** `"lf"` (default: CRLF and CR become LF, as Python reads text) or `"keep"`. See `readText`. */
    readonly newline?: "lf" | "keep";
  };

/**
 * Reads a UTF-8 text file (as `readText` does) and encodes it on worker threads.
 *
 * @param path The file.
 * @param options Those of `encodeParallel`, plus `newline` (default `"lf"`).
 * @example
 * ```ts
 * const ids = await encodeFile("../shared/data/pg84.txt", { encoding: "gpt2" }); // 106,390 ids
 * ```
 */
export async function encodeFile(path: string, options: EncodeFileOptions = {}): Promise<Int32Array> {
  const { newline, ...rest } = options;
  const text = await readText(path, definedOnly({ newline }));
  return encodeParallel(text, rest);
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Positions where `text` can be cut without changing the ids, about `chunkSize` apart.
 *
 * A candidate is the start of a line break (`"\n"` or `"\r\n"`) right after a non-whitespace
 * char: in GPT-2's, cl100k's and o200k's regex such a line break starts a new piece. Each
 * candidate is then checked with the regex itself, so that other patterns (and the exceptions,
 * e.g. cl100k's `".\n"` piece) are handled: run from two points before the candidate, the regex
 * must start a match exactly there both times, and the pieces just before it must be the same
 * whether or not the text goes on after it (lookaheads such as `\s+(?!\S)` see past a cut).
 * A cut is never inside a special token. Patterns that look behind or at the text's start
 * (`(?<=`, `(?<!`, `\b`, `\B`, `^`) are never cut; `$` (tiktoken 0.14's `\s++$`) is verified as a lookahead is.
 *
 * @param text The text.
 * @param pattern The pre-tokenizer regex source.
 * @param specialTokens The tokenizer's special tokens.
 * @param chunkSize The wanted distance between cuts; a cut moves forward to the next safe position.
 * @returns Increasing positions in `(0, text.length)`.
 */
export function findSafeCuts(text: string, pattern: string, specialTokens: readonly string[], chunkSize: number): number[] {
  return [...safeCuts(text, pattern, specialTokens, chunkSize)];
}

/** `findSafeCuts`, one cut at a time. */
function* safeCuts(text: string, pattern: string, specialTokens: readonly string[], chunkSize: number): Generator<number> {
  if (!isCuttable(pattern)) return;
  const regex = compileTiktokenRegex(pattern);
  let from = chunkSize;
  while (from < text.length) {
    let p = nextCandidate(text, from);
    while (p !== -1 && !isSafeCut(text, p, regex, specialTokens)) p = nextCandidate(text, p + 1);
    if (p === -1) return;
    yield p;
    from = p + chunkSize;
  }
}


/** The first line-break start at or after `from` that follows a non-whitespace char, or -1. */
function nextCandidate(text: string, from: number): number {
  for (let p = text.indexOf("\n", from); p !== -1; p = text.indexOf("\n", p + 1)) {
    const start = p > 0 && text.charCodeAt(p - 1) === 13 ? p - 1 : p;
    // tiktoken's \s (pinned White_Space); a surrogate unit is never whitespace.
    if (start > 0 && start >= from && ((unicodeTable()[text.charCodeAt(start - 1)] as number) & WHITE_SPACE_BIT) === 0) return start;
  }
  return -1;
}

function isSafeCut(text: string, p: number, regex: RegExp, specialTokens: readonly string[]): boolean {
  for (const token of specialTokens) {
    // Only the chars around p can hold an occurrence spanning it (searching the whole text would be O(n) a cut).
    const around = text.slice(Math.max(0, p - token.length + 1), p + token.length - 1);
    if (token.length > 1 && around.includes(token)) return false;
  }
  const near = Math.max(0, p - VERIFY_LOOKBACK);
  const far = Math.max(0, p - 4 * VERIFY_LOOKBACK);
  const tail = piecesUpTo(text, near, p, regex);
  if (tail === undefined || piecesUpTo(text, far, p, regex) === undefined) return false;
  // The left chunk ends at p: its last pieces must not change when the text stops there.
  const cutTail = piecesUpTo(text.slice(near, p), 0, p - near, regex);
  return cutTail !== undefined && cutTail.join("\u0000") === tail.join("\u0000");
}

/** The pieces the regex finds from `from` up to `p`, or `undefined` if no piece ends exactly at `p`. */
function piecesUpTo(text: string, from: number, p: number, regex: RegExp): string[] | undefined {
  const pieces: string[] = [];
  regex.lastIndex = from;
  let match: RegExpExecArray | null;
  while ((match = regex.exec(text)) !== null) {
    if (match.index >= p) return match.index === p ? pieces : undefined; // p is inside a gap
    const end = match.index + match[0].length;
    if (end > p) return undefined;
    pieces.push(match[0]);
    if (end === p) return pieces;
    if (match[0].length === 0) regex.lastIndex++;
  }
  return p === text.length ? pieces : undefined;
}

/** False for patterns whose matches depend on what is before them or on where the text starts. */
function isCuttable(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (!inClass && (next === "b" || next === "B")) return false;
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
      if (pattern[i + 1] === "^") i++;
    } else if (c === "^" || pattern.startsWith("(?<=", i) || pattern.startsWith("(?<!", i)) {
      // `$` (the text's end, e.g. tiktoken 0.14's `\s++$`) is fine: like a lookahead, its effect
      // on the pieces before a cut is what isSafeCut verifies.
      return false;
    }
  }
  return true;
}

/** The worker script next to this module (`dist/`), or the built one when running from `src/` (tests). */
function workerScript(): URL {
  const beside = new URL("./parallel-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL("../dist/parallel-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new TokenizerError(`the worker script ${fileURLToPath(beside)} is missing; build the package (npx tsc -b)`);
}
