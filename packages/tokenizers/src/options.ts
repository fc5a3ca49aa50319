import { z } from "zod";
import { TokenizerError } from "./errors.js";

/**
 * Validates `value` against a zod schema and returns the parsed (defaulted) options.
 * A failure becomes a `TokenizerError` whose message names the option, the value received and
 * what is allowed, e.g. "`newline` must be "lf" or "keep", received "crlf"".
 *
 * @param schema The zod schema of the options object.
 * @param value What the caller passed (may be `undefined` when every field has a default).
 * @param context Who is being configured, used for errors about the object itself (e.g. `getTokenizer("simple")`).
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, context: string): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new TokenizerError(`invalid options for ${context}`);
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const where = path === "" ? context : `\`${path}\``;
    throw new TokenizerError(
      `${issue.keys.map((k) => `\`${k}\``).join(", ")} is not an option of ${where}`,
      issue.keys[0],
    );
  }
  const subject = path === "" ? `the options of ${context}` : `\`${path}\``;
  throw new TokenizerError(`${subject} ${issue.message}, received ${describeValue(issue.input)}`, path || undefined);
}

/** A short, readable rendering of a received value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "function") return "a function";
  return typeof value === "object" ? "an object" : typeof value;
}

/** A zod schema for a positive integer whose errors read "must be a positive integer". */
export function positiveInt(): z.ZodNumber {
  const error = "must be a positive integer";
  return z.number({ error }).int({ error }).positive({ error });
}
