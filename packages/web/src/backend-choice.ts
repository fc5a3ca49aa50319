/**
 * The backend choices and how the page names the one in use: no tfjs here, so the main thread
 * (which only renders; training runs in the worker, see training-worker.ts) can show them.
 */

/**
 * What the page may ask for: `auto` is webgpu on a real GPU, then webgl on a real GPU, then wasm,
 * then cpu; a named one is tried first, then the others in that order.
 */
export const BACKEND_CHOICES = ["auto", "webgpu", "webgl", "wasm", "cpu"] as const;

/** One of {@link BACKEND_CHOICES}. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The backend in use, the device it runs on (when known) and why the better ones were passed over. */
export interface BackendInfo {
  readonly name: string;
  /** The GPU adapter or WebGL renderer (e.g. "google swiftshader" on a software emulation); empty on wasm/cpu. */
  readonly device: string;
  /** Whether the device is a software rasterizer (SwiftShader, llvmpipe): a CPU emulating a GPU. */
  readonly software: boolean;
  readonly notes: readonly string[];
}

/** `asked` if it is one of {@link BACKEND_CHOICES}, else `auto`. */
export function parseBackendChoice(asked: string | null): BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(asked ?? "") ? (asked as BackendChoice) : "auto";
}

/** A one-line description for the page: "webgpu on google swiftshader (software: a CPU emulating a GPU)". */
export function describeBackend(info: BackendInfo): string {
  if (info.device === "") return info.name;
  return `${info.name} on ${info.device}${info.software ? " (software: a CPU emulating a GPU)" : ""}`;
}
