import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";

/**
 * Backends `selectBrowserBackend` knows, best first:
 * - `"webgpu"`: `@tensorflow/tfjs-backend-webgpu` (loaded by the caller, see `load`);
 * - `"webgl"`: WebGL2 (or 1), part of `@tensorflow/tfjs`;
 * - `"wasm"`: `@tensorflow/tfjs-backend-wasm` (loaded by the caller; it fetches its `.wasm` files
 *   from where `setWasmPaths` says);
 * - `"cpu"`: tfjs's plain JavaScript backend, always there.
 */
export const BROWSER_BACKEND_NAMES = ["webgpu", "webgl", "wasm", "cpu"] as const;

/** One of {@link BROWSER_BACKEND_NAMES}. */
export type BrowserBackendName = (typeof BROWSER_BACKEND_NAMES)[number];

const name = z.enum(BROWSER_BACKEND_NAMES);
const loader = z.custom<() => Promise<unknown>>((v) => typeof v === "function").describe("a function returning a promise, e.g. () => import(\"@tensorflow/tfjs-backend-webgpu\")");

/** zod schema of `selectBrowserBackend`'s options. */
export const SelectBrowserBackendOptionsSchema = z.strictObject({
  prefer: z
    .union([z.literal("auto"), name, z.array(name).nonempty()])
    .default("auto")
    .describe(`"auto", one of ${BROWSER_BACKEND_NAMES.map((n) => `"${n}"`).join(", ")}, or a non-empty list of them`),
  load: z
    .strictObject({ webgpu: loader.optional(), wasm: loader.optional() })
    .default({})
    .describe("an object with optional `webgpu` and `wasm` loaders"),
});

/** Options of `selectBrowserBackend`. */
export type SelectBrowserBackendOptions = z.input<typeof SelectBrowserBackendOptionsSchema>;

/** What `selectBrowserBackend` chose. */
export interface BrowserBackendSelection {
  readonly backend: BrowserBackendName;
  /** The WebGPU adapter or WebGL renderer (e.g. "google swiftshader"); "" on wasm and cpu. */
  readonly device: string;
  /** Whether that device is a software rasterizer (SwiftShader, llvmpipe, a fallback adapter): a CPU emulating a GPU. */
  readonly software: boolean;
  /** Better backends passed over, in the order tried, and why. */
  readonly skipped: ReadonlyArray<{ readonly name: BrowserBackendName; readonly reason: string }>;
  /** One line, e.g. "backend: wasm; skipped webgpu: software device google swiftshader, webgl: software device ANGLE (...)". */
  readonly description: string;
}

/** Device names of software rasterizers. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

/** What the page's environment says about a GPU backend's device. */
interface Probe {
  readonly device: string;
  /** Why the backend cannot run here; absent when it can. */
  readonly missing?: string;
  readonly software: boolean;
}

/** The parts of WebGPU's adapter read here (no dependency on @webgpu/types). */
interface AdapterLike {
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
}

async function probeWebGPU(): Promise<Probe> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(options?: object): Promise<AdapterLike | null> } } }).navigator?.gpu;
  if (gpu === undefined) return { device: "", software: false, missing: "navigator.gpu is missing (no WebGPU here, or not a secure context)" };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (adapter === null) return { device: "", software: false, missing: "no WebGPU adapter" };
    const i = adapter.info ?? {};
    const device = [i.vendor, i.architecture, i.device, i.description].filter((s) => s !== undefined && s !== "").join(" ") || "unnamed adapter";
    return { device, software: SOFTWARE.test(device) || Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter) };
  } catch (error) {
    return { device: "", software: false, missing: `requestAdapter failed: ${message(error)}` };
  }
}

function probeWebGL(): Probe {
  try {
    // In a worker there is no document: an OffscreenCanvas (what tfjs's webgl uses there too).
    const canvas = () => (typeof document === "undefined" ? new OffscreenCanvas(1, 1) : document.createElement("canvas"));
    if (typeof document === "undefined" && typeof OffscreenCanvas === "undefined") return { device: "", software: false, missing: "no canvas here (neither document nor OffscreenCanvas)" };
    const gl = (canvas().getContext("webgl2") ?? canvas().getContext("webgl")) as WebGLRenderingContext | null;
    if (gl === null) return { device: "", software: false, missing: "no WebGL context" };
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const device = String(info === null ? gl.getParameter(gl.RENDERER) : gl.getParameter(info.UNMASKED_RENDERER_WEBGL));
    return { device, software: SOFTWARE.test(device) };
  } catch (error) {
    return { device: "", software: false, missing: `WebGL failed: ${message(error)}` };
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Raised inside a try when a backend cannot be used; its message is the skip reason. */
class Unavailable extends Error {}

/**
 * Picks and activates the best tfjs backend of this browser (or worker): `webgpu` on a hardware
 * GPU, then `webgl` on a hardware GPU, then `wasm`, then `cpu`, and says which, on what device,
 * and why the better ones were passed over. The GPT of this package trains on each of them (on
 * webgpu and webgl with no host read inside a step; pass ids as `idsTensor`s).
 *
 * Under `"auto"` a software device (SwiftShader, llvmpipe, WebGPU's fallback adapter) is skipped:
 * a CPU emulating a GPU is far slower than wasm with SIMD. A backend named in `prefer` is used
 * even there (headless tests run webgpu and webgl on SwiftShader that way).
 *
 * The webgpu and wasm backends are separate packages: pass a loader for each you want tried
 * (`load.webgpu: () => import("@tensorflow/tfjs-backend-webgpu")`: the bundler splits it off and
 * it is only fetched when tried), or import them yourself before calling; one not loaded is
 * skipped with the reason.
 *
 * @param options.prefer `"auto"` (default), a backend name, or an ordered list of them.
 * @param options.load `{ webgpu?, wasm? }`: functions that import the backend packages.
 * @returns the backend in use, its device, the backends skipped and why, and a one-line description.
 * @throws LayerConfigError (option `prefer`) when none of `prefer` can run, with each reason.
 * @example
 * ```ts
 * import { selectBrowserBackend } from "@tfgpt/layers";
 * const { description } = await selectBrowserBackend({
 *   load: { webgpu: () => import("@tensorflow/tfjs-backend-webgpu"), wasm: () => import("@tensorflow/tfjs-backend-wasm") },
 * });
 * console.log(description); // "backend: webgpu on nvidia ampere" on a laptop with a GPU
 * ```
 */
export async function selectBrowserBackend(options: SelectBrowserBackendOptions = {}): Promise<BrowserBackendSelection> {
  const { prefer, load } = parseOptions(SelectBrowserBackendOptionsSchema, options, "selectBrowserBackend");
  const auto = prefer === "auto";
  const order: readonly BrowserBackendName[] = auto ? BROWSER_BACKEND_NAMES : typeof prefer === "string" ? [prefer] : prefer;
  const skipped: Array<{ name: BrowserBackendName; reason: string }> = [];
  for (const backend of order) {
    try {
      let probe: Probe = { device: "", software: false };
      if (backend === "webgpu" || backend === "webgl") {
        probe = backend === "webgpu" ? await probeWebGPU() : probeWebGL();
        if (probe.missing !== undefined) throw new Unavailable(probe.missing);
        if (probe.software && auto) throw new Unavailable(`software device ${probe.device}`);
      }
      if (backend === "webgpu" || backend === "wasm") await loadBackend(backend, load[backend]);
      let started = false;
      try {
        started = await tf.setBackend(backend);
        await tf.ready();
      } catch (error) {
        throw new Unavailable(`failed to start: ${message(error)}`);
      }
      if (!started) throw new Unavailable("failed to start (see the console)");
      const on = probe.device === "" ? "" : ` on ${probe.device}${probe.software ? " (software: a CPU emulating a GPU)" : ""}`;
      const why = skipped.length === 0 ? "" : `; skipped ${skipped.map((s) => `${s.name}: ${s.reason}`).join(", ")}`;
      return { backend, device: probe.device, software: probe.software, skipped, description: `backend: ${backend}${on}${why}` };
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      skipped.push({ name: backend, reason: error.message });
    }
  }
  throw new LayerConfigError(
    `selectBrowserBackend: no backend of \`prefer\` (${JSON.stringify(prefer)}) can run here: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`,
    "prefer",
  );
}

/** Registers `backend` with tfjs through the caller's loader, unless it is registered already. */
async function loadBackend(backend: "webgpu" | "wasm", loader: (() => Promise<unknown>) | undefined): Promise<void> {
  if (tf.findBackendFactory(backend) !== null) return;
  const pkg = `@tensorflow/tfjs-backend-${backend}`;
  if (loader === undefined) throw new Unavailable(`${pkg} is not loaded (pass \`load.${backend}: () => import("${pkg}")\`)`);
  try {
    await loader();
  } catch (error) {
    throw new Unavailable(`${pkg} failed to load: ${message(error)}`);
  }
  if (tf.findBackendFactory(backend) === null) throw new Unavailable(`the \`load.${backend}\` loader did not register the ${backend} backend`);
}
