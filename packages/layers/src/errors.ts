import { parseOptions as parseWith } from "@tfgpt/common";
import type { z } from "zod";

/**
 * The one error type of `@tfgpt/layers`. Messages name the option or input at fault, the value
 * received and what is allowed, e.g. `` `numHeads` must divide `embeddingDim` (64), received 3 ``
 * or `token id 50300 is out of range: ids must be in [0, 50257)`.
 */
export class LayerConfigError extends Error {
  /** The option or argument at fault, when there is one (e.g. `"vocabSize"`, `"ids"`). */
  readonly option: string | undefined;

  constructor(message: string, option?: string) {
    super(message);
    this.name = "LayerConfigError";
    this.option = option;
  }
}

/**
 * Validates `value` against a zod object schema whose fields carry a `.describe()` text saying
 * what is allowed (`undefined` reads as `{}`); the first problem becomes a `LayerConfigError` such
 * as "`vocabSize` must be a positive integer, received 0" (`@tfgpt/common`'s `parseOptions`).
 */
export function parseOptions<S extends z.ZodObject>(schema: S, value: unknown, what: string): z.output<S> {
  return parseWith(schema, value, { what, error: (message, option) => new LayerConfigError(message, option) });
}
