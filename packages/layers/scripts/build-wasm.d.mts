/** The generated src/head-kernel-wasm.ts for the current assembly sources. */
export function generate(): Promise<string>;
