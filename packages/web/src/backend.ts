import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
// `?url`: Vite copies each binary into the build and gives its served address, so the wasm
// backend fetches the files from this site instead of a CDN.
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreadedSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";
import type { BackendChoice, BackendInfo } from "./backend-choice.js";

setWasmPaths({
  "tfjs-backend-wasm.wasm": wasmPlain,
  "tfjs-backend-wasm-simd.wasm": wasmSimd,
  "tfjs-backend-wasm-threaded-simd.wasm": wasmThreadedSimd,
});

export { BACKEND_CHOICES, describeBackend, type BackendChoice, type BackendInfo } from "./backend-choice.js";

/** The tfjs backends in the order `auto` tries them. */
const PREFERENCE = ["webgpu", "webgl", "wasm", "cpu"] as const;

/** Backends to try for `choice`, best first. */
export function backendOrder(choice: BackendChoice): string[] {
  return choice === "auto" ? [...PREFERENCE] : [choice, ...PREFERENCE.filter((b) => b !== choice)];
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|basic render/i;

/** The WebGL renderer's name, or why there is none. */
function webglRenderer(): { device: string; available: boolean } {
  try {
    // In the training worker there is no document: an OffscreenCanvas (what tfjs's webgl uses there too).
    const canvas = () => (typeof document === "undefined" ? new OffscreenCanvas(1, 1) : document.createElement("canvas"));
    const gl = (canvas().getContext("webgl2") ?? canvas().getContext("webgl")) as WebGLRenderingContext | WebGL2RenderingContext | null;
    if (gl === null) return { device: "no WebGL context", available: false };
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    return { device: String(info === null ? gl.getParameter(gl.RENDERER) : gl.getParameter(info.UNMASKED_RENDERER_WEBGL)), available: true };
  } catch (error) {
    return { device: String(error), available: false };
  }
}

/** The parts of WebGPU's adapter this file reads (no dependency on @webgpu/types). */
interface AdapterLike {
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
}

/** The WebGPU adapter's name (vendor, architecture, description), or why there is none. */
async function webgpuAdapter(): Promise<{ device: string; available: boolean; fallback: boolean }> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(options?: object): Promise<AdapterLike | null> } }).gpu;
  if (gpu === undefined) return { device: "navigator.gpu is missing (no WebGPU in this browser, or not a secure context)", available: false, fallback: false };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (adapter === null) return { device: "no WebGPU adapter", available: false, fallback: false };
    const i = adapter.info ?? {};
    const device = [i.vendor, i.architecture, i.device, i.description].filter((s) => s !== undefined && s !== "").join(" ") || "unnamed adapter";
    return { device, available: true, fallback: Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter) };
  } catch (error) {
    return { device: `requestAdapter failed: ${error instanceof Error ? error.message : String(error)}`, available: false, fallback: false };
  }
}

/**
 * Switches tfjs to the best available backend for `choice` and waits until it is ready.
 *
 * `auto` tries webgpu, then webgl, each only on a hardware GPU (on SwiftShader or llvmpipe they
 * are a CPU emulating a GPU, far slower than wasm with SIMD), then wasm, then cpu. A named
 * backend is tried first, even on a software device (the browser test runs webgpu and webgl on
 * SwiftShader that way), then the others as `auto` would. The webgpu backend's code (~330 kB
 * minified) is only loaded when it is tried. `notes` says why each better backend was passed over.
 *
 * @example
 * const { name, device } = await initBackend("auto"); // "webgpu" on a laptop, "wasm" in headless CI
 */
export async function initBackend(choice: BackendChoice = "auto"): Promise<BackendInfo> {
  const notes: string[] = [];
  for (const name of backendOrder(choice)) {
    let device = "";
    let software = false;
    if (name === "webgpu" || name === "webgl") {
      const probe = name === "webgpu" ? await webgpuAdapter() : webglRenderer();
      device = probe.device;
      software = SOFTWARE.test(device) || ("fallback" in probe && probe.fallback === true);
      if (!probe.available) {
        notes.push(`skipped ${name}: ${device}`);
        continue;
      }
      if (software && name !== choice) {
        notes.push(`skipped ${name}: software device ${device}`);
        continue;
      }
      if (name === "webgpu") {
        try {
          await import("@tensorflow/tfjs-backend-webgpu"); // registers "webgpu"
        } catch (error) {
          notes.push(`webgpu failed to load: ${error instanceof Error ? error.message : String(error)}`);
          continue;
        }
      }
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { name: tf.getBackend(), device, software, notes };
      }
      notes.push(`${name} unavailable`);
    } catch (error) {
      notes.push(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no tfjs backend could start (${notes.join("; ")})`);
}
