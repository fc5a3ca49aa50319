import * as tf from "@tensorflow/tfjs";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";

/**
 * Multi-threaded `wasm` in Node.
 *
 * tfjs-backend-wasm ships a threaded SIMD build but turns it off in Node
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false there) because Emscripten starts its pthread workers
 * from `blob:` URLs, which Node's `Worker` refuses. While the backend initializes, this shim
 * records the text of the `Blob`s tfjs creates and serves it as temporary files instead, gives the
 * worker the bundle's free names (`require$$0`.., `commonjsGlobal`), makes `os.cpus()` report
 * twice the wanted thread count (tfjs's C++ side halves the logical core count), and afterwards
 * `unref`s the workers so that scripts still exit by themselves. Anything unexpected (another
 * tfjs version, no `SharedArrayBuffer`, a worker error, a timeout) falls back to one thread,
 * with a note saying why.
 */

/** Most threads the shim can start: Emscripten pre-spawns 8 workers and tfjs caps its pool at 8. */
export const MAX_WASM_THREADS = 8;

/** How long a threaded initialization may take before the shim gives up and uses one thread. */
const INIT_TIMEOUT_MS = 60_000;

const WASM_PACKAGE = "@tensorflow/tfjs-backend-wasm";
const WASM_PRIORITY = 2; // tfjs-backend-wasm's own registration priority
const THREADED_BINARY = "tfjs-backend-wasm-threaded-simd.wasm";

/** zod schema of `setWasmBackend`'s options. */
export const WasmBackendOptionsSchema = z.strictObject({
  threads: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(`a positive integer (at most ${MAX_WASM_THREADS} are used)`),
});

/** Options of `setWasmBackend`. */
export type WasmBackendOptions = z.input<typeof WasmBackendOptionsSchema>;

/** What `setWasmBackend` did. */
export interface WasmBackendResult {
  /** Threads the active `wasm` backend computes on (XNNPACK's pool, tfjs's `getThreadsCount()`). */
  readonly threads: number;
  /** Threads asked for (the `threads` option, or every core). */
  readonly requested: number;
  /** Why fewer threads run than were asked for, when that is so (e.g. the shim's fallback reason). */
  readonly notes: readonly string[];
}

/** The parts of `@tensorflow/tfjs-backend-wasm` the shim uses (typed here: the package is an optional peer). */
interface WasmModule {
  setThreadsCount(threads: number): void;
  getThreadsCount(): number;
  version_wasm?: string;
}

/** The Emscripten module behind a `BackendWasm`, as far as the shim touches it. */
interface EmscriptenWorker {
  ref(): unknown;
  unref(): unknown;
}
interface WasmBackendInternals {
  wasm?: {
    tfjs?: { getThreadsCount?: () => number };
    PThread?: { runningWorkers?: EmscriptenWorker[]; unusedWorkers?: EmscriptenWorker[] };
  } | null;
  numDataIds?: () => number;
}

/** Serializes initializations: tfjs has one `wasm` backend per process. */
let pending: Promise<unknown> = Promise.resolve();

/**
 * Makes `wasm` the active tfjs backend, running on `threads` threads (default: every core, at
 * most {@link MAX_WASM_THREADS}). Node only.
 *
 * Call it before creating tensors: a `wasm` backend that already holds tensors is kept as it is.
 * When multi-threading cannot be applied the backend runs on one thread and `notes` says why.
 *
 * @param options.threads threads to use; default `os.availableParallelism()`.
 * @returns the threads in use, those requested and notes.
 * @example
 * ```ts
 * import { setWasmBackend } from "@tfgpt/layers/node";
 * const { threads, notes } = await setWasmBackend({ threads: 2 });
 * ```
 */
export async function setWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackendResult> {
  const { threads } = parseOptions(WasmBackendOptionsSchema, options, "setWasmBackend");
  const run = pending.then(() => initialize(threads ?? os.availableParallelism()));
  pending = run.catch(() => undefined);
  return run;
}

/**
 * Threads of the initialized `wasm` backend (XNNPACK's pool size).
 *
 * @returns the thread count; 1 for a single-threaded build.
 * @throws LayerConfigError when the `wasm` backend is not initialized.
 * @example
 * ```ts
 * await selectBackend({ prefer: "wasm" });
 * console.log(getThreadsCount()); // e.g. 2
 * ```
 */
export function getThreadsCount(): number {
  const count = wasmInternals()?.wasm?.tfjs?.getThreadsCount?.();
  if (count === undefined) {
    throw new LayerConfigError("the wasm backend is not initialized: call selectBackend({prefer: \"wasm\"}) first");
  }
  return count;
}

async function initialize(requested: number): Promise<WasmBackendResult> {
  const wasm = (await import(WASM_PACKAGE)) as WasmModule;
  const notes: string[] = [];
  const target = Math.min(requested, MAX_WASM_THREADS);
  if (target < requested) notes.push(`${requested} threads asked for, the wasm backend uses at most ${MAX_WASM_THREADS}`);

  const existing = wasmInternals();
  if (existing?.wasm != null) {
    const current = existing.wasm.tfjs?.getThreadsCount?.() ?? 1;
    if (current === target) return activate(requested, notes);
    if ((existing.numDataIds?.() ?? 0) > 0) {
      notes.push(`the wasm backend was already initialized with ${current} thread(s) and holds tensors; ` +
        "it is kept (select the backend before creating tensors to change its threads)");
      return activate(requested, notes);
    }
    reRegister();
  }

  if (target > 1) {
    const problem = threadsProblem();
    if (problem === undefined) {
      try {
        await initThreaded(wasm, target);
        const threads = wasm.getThreadsCount();
        if (threads < target) notes.push(`tfjs started ${threads} of ${target} threads`);
        return { threads, requested, notes };
      } catch (error) {
        notes.push(`multi-threaded wasm failed (${message(error)}); running on 1 thread`);
        reRegister();
      }
    } else {
      notes.push(`multi-threaded wasm is not available: ${problem}; running on 1 thread`);
    }
  }
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs could not initialize the wasm backend");
  return { threads: wasm.getThreadsCount(), requested, notes };
}

async function activate(requested: number, notes: string[]): Promise<WasmBackendResult> {
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs could not initialize the wasm backend");
  return { threads: getThreadsCount(), requested, notes };
}

function wasmInternals(): WasmBackendInternals | undefined {
  try {
    return (tf.findBackend("wasm") as unknown as WasmBackendInternals | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Drops the `wasm` backend instance (if any) but keeps its factory, so the next `setBackend` builds a new one. */
function reRegister(): void {
  const factory = tf.findBackendFactory("wasm");
  if (factory == null) return;
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", factory, WASM_PRIORITY);
}

/** The bundle tfjs-backend-wasm loads in Node, resolved the way `import()` resolves it. */
function bundlePath(): string {
  return createRequire(import.meta.url).resolve(WASM_PACKAGE);
}

/**
 * Why the shim cannot apply here, or `undefined` when it can: checks the runtime and the
 * tfjs-backend-wasm bundle for every assumption the shim makes.
 */
function threadsProblem(): string | undefined {
  if (typeof SharedArrayBuffer === "undefined") return "SharedArrayBuffer is not defined";
  if (typeof Blob === "undefined" || typeof URL.createObjectURL !== "function") return "Blob URLs are not available";
  let file: string;
  let source: string;
  try {
    file = bundlePath();
    source = fs.readFileSync(file, "utf8");
  } catch (error) {
    return `cannot read the ${WASM_PACKAGE} bundle (${message(error)})`;
  }
  const problem = bundleProblem(source);
  if (problem !== undefined) return problem;
  if (!fs.existsSync(path.join(path.dirname(file), THREADED_BINARY))) return `${THREADED_BINARY} is missing`;
  return undefined;
}

/**
 * Checks a tfjs-backend-wasm Node bundle's text for what the shim relies on; returns the first
 * missing piece, or `undefined` when all are there. Exported for tests.
 *
 * @param source the text of `dist/tf-backend-wasm.node.js`.
 */
export function bundleProblem(source: string): string | undefined {
  const needs: [RegExp, string][] = [
    [/WASM_HAS_MULTITHREAD_SUPPORT/, "no WASM_HAS_MULTITHREAD_SUPPORT flag"],
    [/mainScriptUrlOrBlob\s*=\s*new Blob\(/, "the main script is not passed as a Blob"],
    [/URL\.createObjectURL\(/, "workers are not started from object URLs"],
    [/"cmd":\s*"load"/, "no worker \"load\" message"],
    [/\.cpus\(\)\.length/, "the core count does not come from os.cpus()"],
    [/PThread/, "no Emscripten PThread object"],
  ];
  for (const [pattern, what] of needs) {
    if (!pattern.test(source)) return `unrecognized ${WASM_PACKAGE} bundle: ${what}`;
  }
  const declared = new Set(requireDeclarations(source).map(([name]) => name));
  for (const [name] of source.matchAll(/require\$\$\d+/g)) {
    if (!declared.has(name)) return `unrecognized ${WASM_PACKAGE} bundle: ${name} is not a top-level require`;
  }
  return undefined;
}

/** The bundle's top-level `var require$$N = require('module');` lines, as `[name, module]`. */
function requireDeclarations(source: string): [string, string][] {
  return [...source.matchAll(/^var (require\$\$\d+) = require\((['"])([\w:/.-]+)\2\);$/gm)].map(
    (m) => [m[1] ?? "", m[3] ?? ""],
  );
}

/**
 * Globals the worker needs before it evaluates the bundle's factory text: the factory was cut out
 * of a rollup bundle and refers to names declared at the bundle's top level.
 */
function workerPreamble(source: string, factoryText: string): string {
  const lines = requireDeclarations(source).map(([name, mod]) => `var ${name} = require(${JSON.stringify(mod)});`);
  lines.push("var commonjsGlobal = globalThis;");
  // tslib helpers of the ES5 build; only used on rare worker paths, written here minimally.
  const helpers: Record<string, string> = {
    __values: "function (o) { return o[Symbol.iterator](); }",
    __read: "function (o, n) { var a = Array.from(o); return n === undefined ? a : a.slice(0, n); }",
    __spreadArray: "function (to, from) { return to.concat(Array.prototype.slice.call(from)); }",
  };
  for (const [name, body] of Object.entries(helpers)) {
    if (factoryText.includes(`${name}(`)) lines.push(`var ${name} = ${body};`);
  }
  return `${lines.join("\n")}\n`;
}

/** Initializes `wasm` with the threaded build under the shim's temporary patches. */
async function initThreaded(wasm: WasmModule, threads: number): Promise<void> {
  const source = fs.readFileSync(bundlePath(), "utf8");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tfgpt-wasm-threads-"));
  const texts = new WeakMap<Blob, string>();
  const workers: Worker[] = [];
  let settled = false;
  let failInit: (error: Error) => void = () => undefined;
  const workerFailed = new Promise<never>((_, reject) => {
    failInit = reject;
  });
  let fileCount = 0;
  const writeFile = (name: string, text: string): string => {
    const file = path.join(dir, `${fileCount++}-${name}`);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  };

  const OriginalBlob = globalThis.Blob;
  const originalCreateObjectURL = URL.createObjectURL.bind(URL);
  const originalCreateObjectURLDescriptor = Object.getOwnPropertyDescriptor(URL, "createObjectURL");
  const originalPostMessage = Object.getOwnPropertyDescriptor(Worker.prototype, "postMessage");
  const originalCpus = Object.getOwnPropertyDescriptor(os, "cpus");
  const realCpus = os.cpus();

  class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (Array.isArray(parts) && parts.every((p) => typeof p === "string")) texts.set(this, parts.join(""));
    }
  }
  const restore = (): void => {
    globalThis.Blob = OriginalBlob;
    if (originalCreateObjectURLDescriptor) Object.defineProperty(URL, "createObjectURL", originalCreateObjectURLDescriptor);
    if (originalPostMessage) Object.defineProperty(Worker.prototype, "postMessage", originalPostMessage);
    if (originalCpus) Object.defineProperty(os, "cpus", originalCpus);
  };

  try {
    globalThis.Blob = RecordingBlob;
    // The worker script: Emscripten hands the returned string to `new Worker(...)`.
    URL.createObjectURL = (object: Blob | MediaSource): string => {
      const text = object instanceof OriginalBlob ? texts.get(object) : undefined;
      return text === undefined ? originalCreateObjectURL(object) : writeFile("worker.cjs", text);
    };
    // The main script travels in the worker's "load" message; a path replaces the Blob.
    const post = originalPostMessage?.value as (this: Worker, ...args: unknown[]) => void;
    Object.defineProperty(Worker.prototype, "postMessage", {
      configurable: true,
      writable: true,
      value: function (this: Worker & { onerror?: (e: unknown) => void }, ...args: unknown[]): void {
        const [msg, ...rest] = args;
        const data = msg as { cmd?: unknown; urlOrBlob?: unknown } | null;
        if (data?.cmd === "load" && data.urlOrBlob instanceof OriginalBlob) {
          const text = texts.get(data.urlOrBlob);
          if (text !== undefined) {
            const file = writeFile("main.js", workerPreamble(source, text) + text);
            workers.push(this);
            // Emscripten's handler rethrows a worker error, which would crash the process: record it instead.
            const onerror = this.onerror;
            this.onerror = (e: unknown) => {
              if (settled) onerror?.call(this, e);
              else failInit(new Error(`a worker failed: ${message(e)}`));
            };
            post.call(this, { ...data, urlOrBlob: file }, ...rest);
            return;
          }
        }
        post.apply(this, args);
      },
    });
    // tfjs's C++ side uses half the logical cores (assuming hyper-threading), capped by setThreadsCount.
    const fake = Array.from({ length: 2 * threads }, (_, i) => realCpus[i % Math.max(1, realCpus.length)] ?? realCpus[0]);
    Object.defineProperty(os, "cpus", { configurable: true, writable: true, value: () => fake });

    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    wasm.setThreadsCount(threads);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer after ${INIT_TIMEOUT_MS / 1000} s`)), INIT_TIMEOUT_MS);
    });
    try {
      const ok = await Promise.race([tf.setBackend("wasm"), timeout, workerFailed]);
      if (!ok) throw new Error("tfjs could not initialize the threaded build");
    } finally {
      settled = true;
      clearTimeout(timer);
    }
    releaseWorkers();
  } catch (error) {
    for (const worker of workers) void worker.terminate();
    throw error;
  } finally {
    restore();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Lets the process exit while XNNPACK's threads wait for work: Emscripten `ref`s a worker while
 * its pthread runs, and the pool's pthreads run forever. They only compute while the main thread
 * waits for them, so they never need to keep the process alive.
 */
function releaseWorkers(): void {
  const pthread = wasmInternals()?.wasm?.PThread;
  if (pthread === undefined) throw new Error("the threaded build has no PThread object");
  for (const worker of [...(pthread.runningWorkers ?? []), ...(pthread.unusedWorkers ?? [])]) {
    worker.unref();
    worker.ref = () => worker;
  }
}

function message(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return String(error);
}
