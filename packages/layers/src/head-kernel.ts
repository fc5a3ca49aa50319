import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { HEAD_KERNEL_PLAIN, HEAD_KERNEL_SHARED } from "./head-kernel-wasm.js";

/**
 * The vocabulary head + cross-entropy on our own WebAssembly SIMD kernel (assembly/head.ts), for
 * the CPU backends (`wasm`, `cpu`), where tfjs's matmuls leave most of the time on the table.
 *
 * The `[tokens, vocab]` logits are never materialised: the table is processed in tiles of `VB`
 * rows (and blocks of `RB` tokens), each tile's logits live in a ~128 KB scratch buffer. Forward
 * is one pass (logits, online log-sum-exp); backward takes each tile again (the forward pass's
 * `exp(z - running max)` kept when they fit in `CACHE_LIMIT`, so each probability is one multiply
 * away; else the logits, recomputed) and, while the tile is hot, turns it into
 * `G = (softmax - onehot) * dy / N` and adds `G @ W` into `dHidden` and `G^T @ hidden`
 * into the tile's rows of `dTable`: no packing, no transposes, no `[N, V]` tensor in tfjs.
 *
 * The tiles are split into two shares per thread (contiguous ranges, each with its own scratch and
 * partial sums, merged in share order), handed out by an atomic counter: worker threads
 * (`@tfgpt/layers/node`: `enableHeadKernelThreads`) take shares as they come free, and the calling
 * thread takes the rest, so results depend on the configured thread count only, never on timing.
 */

/** Most worker threads a kernel runs (`enableHeadKernelThreads` allows 64 threads in all). */
export const MAX_WORKERS = 64;
/** Byte offset of the control block; below it lies what the AssemblyScript module may use. */
export const CTRL = 65536;
/** Int32 fields of the control block. */
export enum Field {
  Gen = 0, // bumped to start a job; workers wait on it
  Next = 1, // next share to claim
  Done = 2, // participating workers finished with the job
  Phase = 3, // 1: forward (log-sum-exp), 2: backward (gradients)
  Np = 4, // tokens, padded to a multiple of 8
  Dim = 5,
  Vocab = 6,
  Vb = 7, // vocabulary rows per tile
  Rb = 8, // tokens per block
  Tiles = 9,
  HT = 10, // byte offsets: [dim, np] hidden transposed
  H = 11, // [np, dim] hidden
  W = 12, // [tiles * vb, dim] table
  DW = 13, // [tiles * vb, dim] table gradient
  Lse = 14, // [np] log-sum-exp
  Scale = 15, // [np] dy / N (0 for padding)
  Labels = 16, // [np] int32 (-1 for padding)
  ShareBase = 17, // per-share scratch: tile [vb, rb], m [np], s [np], dh [np, dim]
  ShareStride = 18,
  Failed = 19, // set by a worker whose tile threw
  Epoch = 20, // bumped by setWorkers: workers of an older pool leave at their next wake-up
  Participants = 21, // workers counted in this job
  Joined = 22, // tickets taken for this job: a worker whose ticket is >= Participants sits it out
  Shares = 23, // contiguous ranges of tiles, each with its own scratch
  Cache = 24, // byte offset of the forward pass's exp(z - m), [tiles][row blocks][vb, rb], then each tile's m, [tiles][np] (0: none)
  CacheValid = 25, // 1 while the cache holds the forward pass of the inputs laid out now
  ReadyBase = 32, // one slot per worker: the epoch of the pool it started in (ready for jobs)
  Size = 32 + MAX_WORKERS,
}
const DATA = CTRL + 4 * Field.Size;
const PAGE = 65536;
/** Largest memory the kernel may use (shared memories must declare one): 2 GiB. */
const MAX_PAGES = 32768;
/** Aim for a tile of logits of ~128 KB (32K floats), which stays in L2. */
const TILE_FLOATS = 32768;
const RB_MAX = 512;
/**
 * Largest cache (bytes): below it the forward pass keeps each tile's `exp(z - running max)`, and
 * the backward pass reads them instead of recomputing the logits (one of its two matmuls against
 * the table) and their exponentials; the tiny preset's 512 tokens need 105 MB.
 */
const CACHE_LIMIT = 256 * 2 ** 20;
/** Shares per configured thread: two let a thread that finished early take over from a slow one. */
const SHARES_PER_THREAD = 2;

/** The kernel's exports (byte offsets into its memory). */
export interface HeadKernelExports {
  logitsTile(w: number, hT: number, st: number, vb: number, np: number, ldh: number, dim: number): void;
  lseTile(st: number, valid: number, np: number, m: number, s: number, keep: number): void;
  gradTile(st: number, vb: number, valid: number, np: number, lse: number, scale: number, labels: number, v0: number, kept: number): void;
  dhTile(g: number, w: number, dh: number, vb: number, np: number, dim: number): void;
  dwTile(g: number, h: number, dw: number, vb: number, np: number, dim: number, accumulate: number): void;
}

/** Instantiates the kernel on `memory` (synchronously: the module is ~3 KB). */
export function instantiateHeadKernel(module: WebAssembly.Module, memory: WebAssembly.Memory): HeadKernelExports {
  const abort = () => {
    throw new Error("head kernel: abort");
  };
  return new WebAssembly.Instance(module, { env: { memory, abort } }).exports as unknown as HeadKernelExports;
}

/**
 * Claims shares of the job described in the control block until none is left, and runs their
 * tiles. Run by the calling thread and by every worker.
 */
export function runHeadTiles(k: HeadKernelExports, ctrl: Int32Array): void {
  const shares = ctrl[Field.Shares] as number;
  for (let share = Atomics.add(ctrl, Field.Next, 1); share < shares; share = Atomics.add(ctrl, Field.Next, 1)) runShare(k, ctrl, share);
}

/** Byte offsets of one share's scratch: its tile of logits, running max `m`, sum `s` (`[np]` each) and `dh` (`[np, dim]`). */
function shareLayout(ctrl: Int32Array, share: number): { scratch: number; m: number; s: number; dh: number } {
  const scratch = (ctrl[Field.ShareBase] as number) + share * (ctrl[Field.ShareStride] as number);
  const m = scratch + (ctrl[Field.Vb] as number) * (ctrl[Field.Rb] as number) * 4;
  const s = m + (ctrl[Field.Np] as number) * 4;
  return { scratch, m, s, dh: s + (ctrl[Field.Np] as number) * 4 };
}

function runShare(k: HeadKernelExports, ctrl: Int32Array, share: number): void {
  const phase = ctrl[Field.Phase] as number;
  const np = ctrl[Field.Np] as number;
  const dim = ctrl[Field.Dim] as number;
  const vocab = ctrl[Field.Vocab] as number;
  const vb = ctrl[Field.Vb] as number;
  const rbMax = ctrl[Field.Rb] as number;
  const tiles = ctrl[Field.Tiles] as number;
  const { scratch, m, s, dh } = shareLayout(ctrl, share);
  const hT = ctrl[Field.HT] as number;
  const h = ctrl[Field.H] as number;
  const w = ctrl[Field.W] as number;
  const dw = ctrl[Field.DW] as number;
  const shares = ctrl[Field.Shares] as number;
  const cache = ctrl[Field.Cache] as number;
  const cached = phase === 2 && cache !== 0 && ctrl[Field.CacheValid] === 1;
  const end = Math.floor(((share + 1) * tiles) / shares);
  for (let t = Math.floor((share * tiles) / shares); t < end; t++) {
    const v0 = t * vb;
    const valid = Math.min(vb, vocab - v0);
    const wTile = w + v0 * dim * 4;
    for (let r0 = 0; r0 < np; r0 += rbMax) {
      const rb = Math.min(rbMax, np - r0);
      // This tile's logits: computed (into the cache when there is one), or, in the backward pass,
      // the forward pass's exponentials read from the cache.
      const st = cache === 0 ? scratch : cache + (t * vb * np + r0 * vb) * 4;
      const keep = cache === 0 ? 0 : cache + (tiles * vb * np + t * np + r0) * 4;
      if (!cached) k.logitsTile(wTile, hT + r0 * 4, st, vb, rb, np, dim);
      if (phase === 1) {
        k.lseTile(st, valid, rb, m + r0 * 4, s + r0 * 4, keep);
      } else {
        const lse = (ctrl[Field.Lse] as number) + r0 * 4;
        k.gradTile(st, vb, valid, rb, lse, (ctrl[Field.Scale] as number) + r0 * 4, (ctrl[Field.Labels] as number) + r0 * 4, v0, cached ? keep : 0);
        k.dhTile(st, wTile, dh + r0 * dim * 4, vb, rb, dim);
        k.dwTile(st, h + r0 * dim * 4, dw + v0 * dim * 4, vb, rb, dim, r0 > 0 ? 1 : 0);
      }
    }
  }
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bytes = atob(text);
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i);
  return out;
}

/** Whether this JavaScript engine runs WebAssembly SIMD (the kernel's one requirement). */
export function headKernelSupported(): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(decodeBase64(HEAD_KERNEL_PLAIN));
  } catch {
    return false;
  }
}

/** A pool of worker threads running `runHeadTiles` on the kernel's shared memory. */
export interface HeadKernelWorkers {
  /** Worker threads besides the calling thread. */
  readonly count: number;
  /** Why workers failed (a failed worker never joins a call; the others carry on). */
  readonly errors?: readonly string[];
  /** Stops the workers. */
  terminate(): void;
}

/**
 * Starts `count` workers on `module` and `memory` (Node: `@tfgpt/layers/node`). Worker `slot`
 * (0..count-1) stores `epoch` in its ready slot once started, and leaves when the epoch changes.
 */
export type HeadKernelWorkerFactory = (module: WebAssembly.Module, memory: WebAssembly.Memory, count: number, epoch: number) => HeadKernelWorkers;

/** The forward result kept for the backward pass. */
export interface HeadForward {
  /** Per-token losses `lse - z[label]`, `[N]`. */
  losses: Float32Array;
  /** Which forward call the kernel's memory holds now (a later call overwrites it). */
  token: number;
}

/** zod schema of `HeadKernel`'s options. */
export const HeadKernelOptionsSchema = z.strictObject({
  shared: z.boolean().default(() => typeof SharedArrayBuffer === "function").describe("a boolean"),
  cacheLimit: z.number().int().min(0).default(CACHE_LIMIT).describe("a non-negative integer (bytes)"),
});

/** Options of `new HeadKernel(...)`. */
export type HeadKernelOptions = z.input<typeof HeadKernelOptionsSchema>;

/**
 * The kernel with its memory and optional workers. One per thread of JavaScript; `headKernel()`
 * returns the shared one.
 */
export class HeadKernel {
  readonly shared: boolean;
  /** Largest logits cache in bytes (0: always recompute in the backward pass). */
  readonly cacheLimit: number;
  private readonly module: WebAssembly.Module;
  private readonly memory: WebAssembly.Memory;
  private readonly exports: HeadKernelExports;
  private workers: HeadKernelWorkers | null = null;
  private token = 0;
  /** Time spent in `forward` and `backward` (ms) and calls, since creation or `resetStats()`. */
  readonly stats = { forwardMs: 0, forwardCalls: 0, backwardMs: 0, backwardCalls: 0 };

  /**
   * @param options.shared the shared-memory build, needed for worker threads (default: where
   *   `SharedArrayBuffer` exists).
   * @param options.cacheLimit largest logits cache in bytes (default 256 MiB; 0 turns it off).
   */
  constructor(options: HeadKernelOptions = {}) {
    const { shared, cacheLimit } = parseOptions(HeadKernelOptionsSchema, options, "HeadKernel");
    this.shared = shared;
    if (this.shared && typeof SharedArrayBuffer !== "function") {
      throw new LayerConfigError("HeadKernel: `shared` needs SharedArrayBuffer, which this context lacks (no cross-origin isolation?)", "shared");
    }
    this.cacheLimit = cacheLimit;
    this.module = new WebAssembly.Module(decodeBase64(this.shared ? HEAD_KERNEL_SHARED : HEAD_KERNEL_PLAIN));
    this.memory = new WebAssembly.Memory(this.shared ? { initial: 4, maximum: MAX_PAGES, shared: true } : { initial: 4, maximum: MAX_PAGES });
    this.exports = instantiateHeadKernel(this.module, this.memory);
  }

  /** Threads that work on a call: the calling one plus the workers. */
  get threads(): number {
    return 1 + (this.workers?.count ?? 0);
  }

  /** Workers that have started (a worker joins the calls made after it started). */
  get readyWorkers(): number {
    const ctrl = this.control();
    const epoch = Atomics.load(ctrl, Field.Epoch);
    let ready = 0;
    for (let slot = 0; slot < (this.workers?.count ?? 0); slot++) if (Atomics.load(ctrl, Field.ReadyBase + slot) === epoch) ready++;
    return ready;
  }

  /** Threads that worked on the last pass: 1 + the workers that took part. */
  get lastThreads(): number {
    return 1 + Atomics.load(this.control(), Field.Participants);
  }

  private control(): Int32Array {
    return new Int32Array(this.memory.buffer, CTRL, Field.Size);
  }

  /**
   * Runs `count` worker threads from `factory` beside the calling thread (0 stops them). Needs the
   * shared build; the calling thread blocks in `Atomics.wait`, so not on a browser's main thread.
   */
  setWorkers(count: number, factory?: HeadKernelWorkerFactory): void {
    this.workers?.terminate();
    this.workers = null;
    // A new epoch: workers of the old pool that have not stopped yet neither count nor join.
    const epoch = Atomics.add(this.control(), Field.Epoch, 1) + 1;
    if (count <= 0) return;
    if (count > MAX_WORKERS) throw new LayerConfigError(`head kernel: at most ${MAX_WORKERS} workers, received ${count}`, "threads");
    if (!this.shared) throw new LayerConfigError("head kernel: worker threads need SharedArrayBuffer (the shared build)", "threads");
    if (factory === undefined) throw new LayerConfigError("head kernel: worker threads need a factory (enableHeadKernelThreads in @tfgpt/layers/node)", "threads");
    this.workers = factory(this.module, this.memory, count, epoch);
  }

  /**
   * Lays out `hidden` (`[n, dim]`), `table` (`[vocab, dim]`) and `labels` in the kernel's memory
   * and runs the forward pass: each token's loss `logsumexp(hidden @ table^T) - z[label]`.
   * `dim` must be a multiple of 8 (`supports`); labels must be in `[0, vocab)` (checked by the caller).
   */
  forward(hidden: Float32Array, table: Float32Array, labels: Int32Array, n: number, vocab: number, dim: number): HeadForward {
    if (!HeadKernel.supports(dim)) throw new LayerConfigError(`head kernel: width ${dim} is not a multiple of 8`, "dim");
    const started = performance.now();
    const { np, rb, vb, tiles, shares, hT, h, w, dw, lse, scale, lab, shareBase, shareStride, cache, end } = this.plan(n, vocab, dim);
    this.reserve(end);

    const buf = this.memory.buffer;
    const f32 = new Float32Array(buf);
    const i32 = new Int32Array(buf);
    f32.set(hidden.subarray(0, n * dim), h / 4);
    f32.fill(0, h / 4 + n * dim, h / 4 + np * dim);
    for (let r = 0; r < np; r++) {
      for (let c = 0; c < dim; c++) f32[hT / 4 + c * np + r] = r < n ? (hidden[r * dim + c] as number) : 0;
    }
    f32.set(table.subarray(0, vocab * dim), w / 4);
    f32.fill(0, w / 4 + vocab * dim, w / 4 + tiles * vb * dim);
    i32.set(labels.subarray(0, n), lab / 4);
    i32.fill(-1, lab / 4 + n, lab / 4 + np);
    const ctrl = new Int32Array(buf, CTRL, Field.Size);
    ctrl.set([np, dim, vocab, vb, rb, tiles, hT, h, w, dw, lse, scale, lab, shareBase, shareStride], Field.Np);
    ctrl[Field.Shares] = shares;
    ctrl[Field.Cache] = cache;
    ctrl[Field.CacheValid] = 0;
    // Running (max, sum) pairs of each share start empty; the m and s arrays lie side by side.
    const pairs = Array.from({ length: shares }, (_, t) => shareLayout(ctrl, t).m / 4);
    for (const m of pairs) {
      f32.fill(-3.4e38, m, m + np);
      f32.fill(0, m + np, m + 2 * np);
    }
    this.run(ctrl, 1);
    ctrl[Field.CacheValid] = 1;

    // Merge the shares' running (max, sum) pairs into each token's log-sum-exp, in share order.
    const losses = new Float32Array(n);
    for (let r = 0; r < np; r++) {
      let max = -Infinity;
      for (const m of pairs) max = Math.max(max, f32[m + r] as number);
      let sum = 0;
      for (const m of pairs) sum += (f32[m + np + r] as number) * Math.exp((f32[m + r] as number) - max);
      const value = max + Math.log(sum);
      f32[lse / 4 + r] = value;
      if (r < n) {
        const label = labels[r] as number;
        let z = 0;
        for (let c = 0; c < dim; c++) z += (hidden[r * dim + c] as number) * (table[label * dim + c] as number);
        losses[r] = value - z;
      }
    }
    this.token++;
    this.stats.forwardMs += performance.now() - started;
    this.stats.forwardCalls++;
    return { losses, token: this.token };
  }

  /** Whether a forward pass of `n` tokens against a `[vocab, dim]` table fits the kernel's memory (2 GiB). */
  fits(n: number, vocab: number, dim: number): boolean {
    return HeadKernel.supports(dim) && this.plan(n, vocab, dim).end <= MAX_PAGES * PAGE;
  }

  /** Where everything goes in memory for a forward pass (byte offsets) and the tile sizes. */
  private plan(n: number, vocab: number, dim: number) {
    const np = Math.ceil(n / 8) * 8;
    const rb = Math.min(np, RB_MAX);
    const vb = Math.max(4, Math.min(256, Math.floor(TILE_FLOATS / rb / 4) * 4));
    const tiles = Math.ceil(vocab / vb);
    const shares = this.threads * SHARES_PER_THREAD;
    const align = (x: number) => Math.ceil(x / 64) * 64;
    const hT = DATA;
    const h = align(hT + dim * np * 4);
    const w = align(h + np * dim * 4);
    const dw = align(w + tiles * vb * dim * 4);
    const lse = align(dw + tiles * vb * dim * 4);
    const scale = align(lse + np * 4);
    const lab = align(scale + np * 4);
    const shareBase = align(lab + np * 4);
    const shareStride = align(vb * rb * 4 + 2 * np * 4 + np * dim * 4);
    const withoutCache = shareBase + shares * shareStride;
    const cacheBytes = tiles * vb * np * 4 + tiles * np * 4;
    const cacheAt = align(withoutCache);
    const cache = cacheBytes <= this.cacheLimit && cacheAt + cacheBytes <= MAX_PAGES * PAGE ? cacheAt : 0;
    const end = cache === 0 ? withoutCache : cache + cacheBytes;
    return { np, rb, vb, tiles, shares, hT, h, w, dw, lse, scale, lab, shareBase, shareStride, cache, end };
  }

  /** Whether the memory still holds the inputs of that forward call. */
  holds(forward: HeadForward): boolean {
    return forward.token === this.token;
  }

  /**
   * The gradients of `sum_r dy[r] * loss[r]` for the forward call the memory holds, with `dy`
   * given per token (e.g. `dyMean / n` for every token of a mean): `dHidden` `[n, dim]` and
   * `dTable` `[vocab, dim]`.
   */
  backward(dyPerToken: Float32Array): { dHidden: Float32Array; dTable: Float32Array } {
    const started = performance.now();
    const buf = this.memory.buffer;
    const f32 = new Float32Array(buf);
    const ctrl = new Int32Array(buf, CTRL, Field.Size);
    const np = ctrl[Field.Np] as number;
    const dim = ctrl[Field.Dim] as number;
    const vocab = ctrl[Field.Vocab] as number;
    const n = dyPerToken.length;
    const scale = (ctrl[Field.Scale] as number) / 4;
    f32.set(dyPerToken, scale);
    f32.fill(0, scale + n, scale + np);
    const partials = Array.from({ length: ctrl[Field.Shares] as number }, (_, t) => shareLayout(ctrl, t).dh / 4);
    for (const o of partials) f32.fill(0, o, o + np * dim);
    this.run(ctrl, 2);
    ctrl[Field.CacheValid] = 0; // the gradients were computed in place of the cached logits
    const [first, ...rest] = partials as [number, ...number[]];
    const dHidden = f32.slice(first, first + n * dim);
    for (const o of rest) {
      for (let i = 0; i < n * dim; i++) dHidden[i] = (dHidden[i] as number) + (f32[o + i] as number);
    }
    const dw = (ctrl[Field.DW] as number) / 4;
    const dTable = f32.slice(dw, dw + vocab * dim);
    this.stats.backwardMs += performance.now() - started;
    this.stats.backwardCalls++;
    return { dHidden, dTable };
  }

  /** Zeroes `stats`. */
  resetStats(): void {
    Object.assign(this.stats, { forwardMs: 0, forwardCalls: 0, backwardMs: 0, backwardCalls: 0 });
  }

  /** Whether a table of width `dim` fits the kernel's blocks. */
  static supports(dim: number): boolean {
    return dim > 0 && dim % 8 === 0;
  }

  private reserve(bytes: number): void {
    const pages = Math.ceil(bytes / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (pages > MAX_PAGES) throw new LayerConfigError(`head kernel: needs ${Math.ceil(bytes / 2 ** 20)} MiB, more than its 2 GiB memory`, "hidden");
    if (pages > have) this.memory.grow(pages - have);
  }

  private run(ctrl: Int32Array, phase: number): void {
    ctrl[Field.Phase] = phase;
    ctrl[Field.Failed] = 0;
    // Only workers that have started count: a worker still booting (which may need this thread's
    // event loop) joins a later job. Tickets keep the count right whichever workers wake.
    const participants = this.readyWorkers;
    Atomics.store(ctrl, Field.Next, 0);
    Atomics.store(ctrl, Field.Done, 0);
    Atomics.store(ctrl, Field.Participants, participants);
    Atomics.store(ctrl, Field.Joined, 0);
    if (participants > 0) {
      Atomics.add(ctrl, Field.Gen, 1);
      Atomics.notify(ctrl, Field.Gen);
    }
    runHeadTiles(this.exports, ctrl);
    if (participants > 0) {
      // Wait for the workers' last tiles; a worker that stopped answering is an error, not a hang.
      const deadline = Date.now() + 120_000;
      for (let done = Atomics.load(ctrl, Field.Done); done < participants; done = Atomics.load(ctrl, Field.Done)) {
        if (Date.now() > deadline) throw new Error("head kernel: worker threads stopped answering");
        Atomics.wait(ctrl, Field.Done, done, 1000);
      }
      if (ctrl[Field.Failed] !== 0) throw new Error("head kernel: a worker thread failed");
    }
  }

}

let shared: HeadKernel | null = null;

/** The process's (or page's) head kernel, created on first use. */
export function headKernel(): HeadKernel {
  shared ??= new HeadKernel();
  return shared;
}
