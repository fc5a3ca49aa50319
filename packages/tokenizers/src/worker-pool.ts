/**
 * Encoding large texts on several threads (Node only: `worker_threads`): the pool of workers
 * (`ParallelEncoder`) and its one-call forms. The text is cut only where the pre-tokenizer would
 * cut anyway (`cut-safety.ts`), so the ids are identical to `tokenizer.encode(text)`. A
 * `{ path }` tokenizer spec is read through the registry's `"bpe"` factory, which can read files
 * once `@tfgpt/tokenizers/node` (the only entry that exports this module) is imported.
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
import { safeCuts } from "./cut-safety.js";
import { getTokenizer } from "./registry.js";
import { assertNoDisallowedSpecial, resolveSpecialTokens } from "./special-tokens.js";
import type { EncodeOptions, TokenizerSpec } from "./tokenizer.js";

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

/** A unit of `ParallelEncoder`'s work: sent to worker `w`, or done in this thread. */
interface Job {
  readonly remote: (w: number) => Promise<void>;
  readonly local: () => void;
}

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
    await this.runJobs((): Job | undefined => {
      if (start >= text.length) return undefined;
      const cut = cuts.next();
      const end = cut.done === true ? text.length : cut.value;
      const chunk = text.slice(start, end);
      const index = results.length;
      results.push(new Int32Array(0));
      start = end;
      return {
        remote: (w) => this.send(w, chunk, undefined, options).then(({ ids }) => void (results[index] = ids)),
        local: () => void (results[index] = tok.encodeToInt32(chunk, options)),
      };
    });
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
    await this.runJobs((): Job | undefined => {
      if (next >= groups.length) return undefined;
      const [start, end] = groups[next++] as [number, number];
      return {
        remote: (w) =>
          this.send(w, "", texts.slice(start, end), options).then(({ ids, lengths }) => {
            let at = 0;
            for (let i = start; i < end; i++) {
              const n = (lengths as Int32Array)[i - start] as number;
              results[i] = ids.subarray(at, at + n);
              at += n;
            }
          }),
        local: () => {
          for (let i = start; i < end; i++) results[i] = tok.encodeToInt32(texts[i] as string, options);
        },
      };
    });
    return results;
  }

  /**
   * Runs the jobs `next` hands out (until it returns `undefined`) on the workers and this thread:
   * one job per worker first, then a second each (so that a worker never waits for the next
   * message), then a worker gets the next job as each answer comes in; meanwhile this thread does
   * jobs itself (no copy, no message) and lets the workers' answers in between them. Resolves when
   * every job is done; rejects with the first failure (no job is handed out after it).
   */
  private async runJobs(next: () => Job | undefined): Promise<void> {
    let taken = 0;
    let done = 0;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const finished = (): void => {
      done++;
      wake?.();
    };
    const take = (): Job | undefined => {
      const job = failure === undefined ? next() : undefined;
      if (job !== undefined) taken++;
      return job;
    };
    const dispatch = (w: number, limit: number): void => {
      while ((this.inFlight[w] as number) < limit) {
        const job = take();
        if (job === undefined) return;
        job.remote(w).then(
          () => {
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
    for (let job = take(); job !== undefined; job = take()) {
      job.local();
      done++;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    while (done < taken) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    if (failure !== undefined) throw failure;
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

/** The worker script next to this module (`dist/`), or the built one when running from `src/` (tests). */
function workerScript(): URL {
  const beside = new URL("./parallel-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL("../dist/parallel-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new TokenizerError(`the worker script ${fileURLToPath(beside)} is missing; build the package (npx tsc -b)`);
}
