/** The generated src/head-kernel-wasm.ts for the current assembly sources. */
export function generate(): Promise<string>;

/** The generated src/gemv-wasm.ts for the current assembly/gemv.ts. */
export function generateGemv(): Promise<string>;
