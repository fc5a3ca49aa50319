import { parseOptions as parseWith } from "@tfgpt/common";
import type { z } from "zod";
import { TokenizerError } from "./errors.js";

export { describeValue, positiveInt } from "@tfgpt/common";

/**
 * Validates `value` against a zod schema and returns the parsed (defaulted) options
 * (`undefined` reads as `{}`). A failure becomes a `TokenizerError` whose message names the
 * option, the value received and what is allowed, e.g. "`newline` must be "lf" or "keep",
 * received "crlf"" (`@tfgpt/common`'s `parseOptions`).
 *
 * @param schema The zod schema of the options object.
 * @param value What the caller passed.
 * @param context Who is being configured, used for errors about the object itself (e.g. `getTokenizer("simple")`).
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, context: string): z.output<S> {
  return parseWith(schema, value, { what: context, error: (message, option) => new TokenizerError(message, option) });
}
