import * as tf from "@tensorflow/tfjs";
import os from "node:os";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { headKernelSupported } from "./head-kernel.js";
import { enableHeadKernelThreads } from "./head-kernel-node.js";
import { setWasmBackend } from "./wasm-threads.js";

/**
 * Backends `selectBackend` knows, best first:
 * - `"tensorflow-gpu"`: TensorFlow C++ with CUDA, from the optional peer `@tensorflow/tfjs-node-gpu`;
 * - `"tensorflow"`: TensorFlow C++ on the CPU, from `@tensorflow/tfjs-node` (or the GPU package
 *   when only that one is installed);
 * - `"wasm"`: `@tensorflow/tfjs-backend-wasm`, multi-threaded in Node (see `setWasmBackend`);
 * - `"cpu"`: tfjs's plain JavaScript backend, always there.
 */
export const BACKEND_NAMES = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;

/** One of {@link BACKEND_NAMES}. */
export type BackendName = (typeof BACKEND_NAMES)[number];

const backendName = z.enum(BACKEND_NAMES);

/** zod schema of `selectBackend`'s options. */
export const SelectBackendOptionsSchema = z.strictObject({
  prefer: z
    .union([z.literal("auto"), backendName, z.array(backendName).nonempty()])
    .default("auto")
    .describe(`"auto", one of ${BACKEND_NAMES.map((n) => `"${n}"`).join(", ")}, or a non-empty list of them`),
  threads: z.number().int().positive().optional().describe("a positive integer"),
  verbose: z.boolean().default(false).describe("a boolean"),
});

/** Options of `selectBackend`. */
export type SelectBackendOptions = z.input<typeof SelectBackendOptionsSchema>;

/** A backend `selectBackend` passed over, and why. */
export interface SkippedBackend {
  /** The backend's name in {@link BACKEND_NAMES}. */
  readonly name: BackendName;
  /** Why it was not used, e.g. "package @tensorflow/tfjs-node-gpu not installed". */
  readonly reason: string;
}

/** What `selectBackend` chose. */
export interface BackendSelection {
  /** The backend in use, by `selectBackend`'s name for it. */
  readonly backend: BackendName;
  /** tfjs's name of the active backend (`tf.getBackend()`): "tensorflow", "wasm" or "cpu". */
  readonly tfBackend: string;
  /** Threads it computes on (for "tensorflow", TensorFlow's own pool, reported as every core). */
  readonly threads: number;
  /** Better backends that were passed over, in the order tried. */
  readonly skipped: readonly SkippedBackend[];
  /**
   * Threads of the head kernel (the fused vocabulary head + loss that `GPTModel` trains with on
   * the CPU backends; see `headCrossEntropy`), 0 where the head runs on tfjs ops (TensorFlow).
   */
  readonly headKernelThreads: number;
  /**
   * For the TensorFlow backends: the package loaded, its version, TensorFlow's own version (the
   * libtensorflow the addon was built against) and whether it computes on a CUDA GPU.
   */
  readonly tensorflow?: TensorflowInfo;
  /** Anything else worth knowing, e.g. why wasm runs on fewer threads than asked for. */
  readonly notes: readonly string[];
  /** One line, e.g. "backend: wasm (2 threads, head kernel 2 threads); skipped tensorflow-gpu: package @tensorflow/tfjs-node-gpu not installed". */
  readonly description: string;
}

const PACKAGES = {
  gpu: "@tensorflow/tfjs-node-gpu",
  node: "@tensorflow/tfjs-node",
  wasm: "@tensorflow/tfjs-backend-wasm",
} as const;

/** Which TensorFlow `selectBackend` loaded. */
export interface TensorflowInfo {
  /** `@tensorflow/tfjs-node` or `@tensorflow/tfjs-node-gpu`. */
  readonly package: string;
  /** The package's version, e.g. "4.22.0". */
  readonly packageVersion: string;
  /** TensorFlow's version from its C API (`TF_Version()`), e.g. "2.21.0"; "unknown" if it does not say. */
  readonly version: string;
  /** Whether TensorFlow computes on a CUDA GPU (else on the CPU). */
  readonly gpu: boolean;
}

/** How to get a TensorFlow package, appended where one was asked for and is not installed. */
export function tensorflowInstallHint(pkg: string = PACKAGES.node): string {
  return `install it with \`npm install ${pkg}\` (offline, from a tfgpt checkout: \`npm run setup:tensorflow${pkg === PACKAGES.gpu ? " -- --gpu" : ""}\`)`;
}

/**
 * `selectBackend` found none of the backends of `prefer` usable: a `LayerConfigError` (option
 * `prefer`) that also lists each backend tried and why it was skipped.
 */
export class BackendUnavailableError extends LayerConfigError {
  constructor(
    message: string,
    /** The backends tried, in order, and why each was skipped. */
    readonly skipped: readonly SkippedBackend[],
  ) {
    super(message, "prefer");
    this.name = "BackendUnavailableError";
  }

  /** Whether every backend tried was a TensorFlow one whose package is not installed. */
  get tensorflowNotInstalled(): boolean {
    return this.skipped.length > 0 && this.skipped.every((s) => s.name.startsWith("tensorflow") && / not installed$/.test(s.reason));
  }
}

/** Raised inside a probe when a backend cannot be used; its message is the skip reason. */
class Unavailable extends Error {}

interface Activated {
  threads: number;
  notes: string[];
  tensorflow?: TensorflowInfo;
}

/** Which TensorFlow package this process loaded: two native bindings must never be loaded together. */
let loadedTensorflowPackage: string | undefined;

/**
 * Picks and activates the fastest tfjs backend available: `@tensorflow/tfjs-node-gpu` (CUDA),
 * `@tensorflow/tfjs-node`, multi-threaded `wasm`, then `cpu`. The Node packages are optional
 * peer dependencies, loaded with `import()` only when tried. Node only.
 *
 * @param options.prefer `"auto"` (default) tries every backend best first; a backend name or an
 *   ordered list tries only those, and throws a `LayerConfigError` saying why when none works.
 * @param options.threads threads for `wasm`; default every core (`os.availableParallelism()`).
 * @param options.verbose log the one-line description with `console.info`; default `false`.
 * @returns the backend in use, its threads, the backends skipped and why, and a one-line description.
 * @example
 * ```ts
 * import { selectBackend } from "@tfgpt/layers/node";
 * const { description } = await selectBackend({ prefer: ["wasm", "cpu"], threads: 2 });
 * console.log(description); // backend: wasm (2 threads, head kernel 2 threads)
 * ```
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const { prefer, threads, verbose } = parseOptions(SelectBackendOptionsSchema, options, "selectBackend");
  const order: readonly BackendName[] = prefer === "auto" ? BACKEND_NAMES : typeof prefer === "string" ? [prefer] : prefer;
  const skipped: SkippedBackend[] = [];
  for (const name of order) {
    try {
      const { threads: used, notes, tensorflow } = await activate(name, threads);
      const headKernelThreads = startHeadKernel(name, threads, notes);
      const parts = { backend: name, tfBackend: tf.getBackend(), threads: used, headKernelThreads, skipped, notes };
      const selection = describe(tensorflow === undefined ? parts : { ...parts, tensorflow });
      if (verbose) console.info(selection.description);
      return selection;
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      skipped.push({ name, reason: error.message });
    }
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
  // Only TensorFlow asked for, and its package missing: say how to install it.
  const missing = skipped.every((s) => s.name.startsWith("tensorflow") && / not installed$/.test(s.reason));
  const hint = missing ? `; ${tensorflowInstallHint(order.includes("tensorflow") ? PACKAGES.node : PACKAGES.gpu)}` : "";
  throw new BackendUnavailableError(`no backend of \`prefer\` (${JSON.stringify(prefer)}) is available: ${why}${hint}`, [...skipped]);
}

/**
 * On the CPU backends, runs the head kernel on `threads` threads (default every core, like wasm);
 * returns its thread count, 0 when the backend does not use it.
 */
function startHeadKernel(name: BackendName, threads: number | undefined, notes: string[]): number {
  if (name !== "wasm" && name !== "cpu") return 0;
  if (!headKernelSupported()) {
    notes.push("the head kernel needs WebAssembly SIMD; the head runs on tfjs ops");
    return 0;
  }
  try {
    return enableHeadKernelThreads(threads === undefined ? {} : { threads: Math.min(threads, 64) });
  } catch (error) {
    notes.push(`head kernel worker threads failed (${errorMessage(error)}); it runs on the calling thread`);
    return 1;
  }
}

function describe(parts: Omit<BackendSelection, "description">): BackendSelection {
  const unit = (n: number) => (n === 1 ? "thread" : "threads");
  const t = parts.tensorflow;
  let pool = t !== undefined ? `TensorFlow ${t.version} on the ${t.gpu ? "GPU" : "CPU"}, ${t.package} ${t.packageVersion}` : `${parts.threads} ${unit(parts.threads)}`;
  if (parts.headKernelThreads > 0) pool += `, head kernel ${parts.headKernelThreads} ${unit(parts.headKernelThreads)}`;
  let description = `backend: ${parts.backend} (${pool})`;
  if (parts.skipped.length > 0) {
    description += `; skipped ${parts.skipped.map((s) => `${s.name}: ${s.reason}`).join(", ")}`;
  }
  if (parts.notes.length > 0) description += `; note: ${parts.notes.join("; ")}`;
  return { ...parts, description };
}

async function activate(name: BackendName, threads: number | undefined): Promise<Activated> {
  switch (name) {
    case "tensorflow-gpu": {
      await loadTensorflow(PACKAGES.gpu);
      await setBackend("tensorflow");
      // tfjs-node-gpu silently runs on the CPU when TensorFlow finds no CUDA device.
      const tensorflow = tensorflowInfo();
      if (!tensorflow.gpu) throw new Unavailable(`${PACKAGES.gpu} loaded, but TensorFlow ${tensorflow.version} sees no CUDA device`);
      return { threads: os.availableParallelism(), notes: [], tensorflow };
    }
    case "tensorflow": {
      // Whichever TensorFlow package is already loaded also runs on the CPU; else try the CPU
      // package, then the GPU one (it falls back to the CPU when there is no CUDA device).
      if (loadedTensorflowPackage === undefined) {
        try {
          await loadTensorflow(PACKAGES.node);
        } catch (error) {
          if (!(error instanceof Unavailable)) throw error;
          try {
            await loadTensorflow(PACKAGES.gpu);
          } catch {
            throw error;
          }
        }
      }
      await setBackend("tensorflow");
      return { threads: os.availableParallelism(), notes: [], tensorflow: tensorflowInfo() };
    }
    case "wasm": {
      try {
        await import(PACKAGES.wasm);
      } catch (error) {
        throw new Unavailable(importFailure(PACKAGES.wasm, error));
      }
      try {
        const result = await setWasmBackend(threads === undefined ? {} : { threads });
        return { threads: result.threads, notes: [...result.notes] };
      } catch (error) {
        throw new Unavailable(`initialization failed: ${errorMessage(error)}`);
      }
    }
    case "cpu": {
      await setBackend("cpu");
      return { threads: 1, notes: [] };
    }
  }
}

async function loadTensorflow(pkg: string): Promise<void> {
  if (loadedTensorflowPackage === pkg) return;
  if (loadedTensorflowPackage !== undefined) {
    throw new Unavailable(`${loadedTensorflowPackage} is already loaded in this process`);
  }
  // TensorFlow's C++ logs INFO and WARNING lines to stderr as it loads (CPU features and the
  // like); keep only errors unless the user chose a level.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
  let module: { version?: Record<string, string> };
  try {
    module = (await import(pkg)) as typeof module;
  } catch (error) {
    throw new Unavailable(importFailure(pkg, error));
  }
  loadedTensorflowPackage = pkg;
  loadedTensorflowVersion = module.version?.[pkg.slice("@tensorflow/".length)] ?? "unknown";
}

/** The package's version, from its `version` export, once loaded. */
let loadedTensorflowVersion = "unknown";

/** What the active `tensorflow` backend runs: package, versions, GPU or CPU. */
function tensorflowInfo(): TensorflowInfo {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean; binding?: { TF_Version?: unknown } };
  const version = backend.binding?.TF_Version;
  return {
    package: loadedTensorflowPackage ?? PACKAGES.node,
    packageVersion: loadedTensorflowVersion,
    version: typeof version === "string" ? version : "unknown",
    gpu: backend.isUsingGpuDevice === true,
  };
}

async function setBackend(tfName: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
  } catch (error) {
    throw new Unavailable(`tfjs could not set backend "${tfName}": ${errorMessage(error)}`);
  }
  if (!ok) throw new Unavailable(`tfjs could not initialize backend "${tfName}"`);
}

/** A short reason for a failed `import(pkg)`: "not installed" when the package itself is missing. */
function importFailure(pkg: string, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = errorMessage(error);
  // Node says "Cannot find package 'pkg'"; bundlers and test runners (Vite) say 'Could not resolve "pkg"'.
  const namesPackage = text.includes(`'${pkg}'`) || text.includes(`"${pkg}"`);
  const notFound = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND" || /cannot find|could not resolve/i.test(text);
  if (namesPackage && notFound) return `package ${pkg} not installed`;
  return `package ${pkg} failed to load: ${text.split("\n")[0]}`;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return String(error);
}
