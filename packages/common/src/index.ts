/**
 * `@tfgpt/common`: what the tfgpt packages share. Browser-safe (no Node built-ins, no tfjs);
 * Node-only file helpers are in `@tfgpt/common/node`.
 */
export { parseOptions, describeValue, type OptionsErrorFactory, type ParseOptionsContext } from "./options.js";
export { positiveInt, nonNegativeInt, bool, oneOf, fn } from "./schemas.js";
export { createRng, type Rng } from "./rng.js";
