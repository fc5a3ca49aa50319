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

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Validates `value` against a zod object schema whose fields carry a `.describe()` text saying
 * what is allowed; the first problem becomes a `LayerConfigError` such as
 * "`vocabSize` must be a positive integer, received 0".
 */
export function parseOptions<S extends z.ZodObject>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // Checked before the path: a strict object's unknown keys are reported at the root (empty path).
  if (issue?.code === "unrecognized_keys") {
    const keys = (issue as { keys?: string[] }).keys ?? [];
    throw new LayerConfigError(
      `${what} has no option ${keys.map((k) => `\`${k}\``).join(", ")} (known: ${Object.keys(schema.shape).join(", ")})`,
      keys[0],
    );
  }
  const key = issue?.path[0];
  if (issue === undefined || key === undefined) {
    throw new LayerConfigError(`${what} options must be an object, received ${show(value)}`);
  }
  const name = String(key);
  const field = (schema.shape as Record<string, z.ZodType | undefined>)[name];
  const allowed = field?.description ?? issue.message;
  const received = (value as Record<string, unknown> | null | undefined)?.[name];
  throw new LayerConfigError(`\`${name}\` must be ${allowed}, received ${show(received)}`, name);
}
