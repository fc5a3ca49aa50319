/**
 * Schema pieces that every package's options use, each with one error clause for every way of
 * getting it wrong, so `parseOptions` reports e.g. `` `stride` must be a positive integer, received 0 ``.
 */
import { z } from "zod";

/**
 * An integer >= 1 (and a safe integer, as zod's `.int()` requires).
 *
 * @param allowed What the message says is allowed (default `"a positive integer"`).
 */
export function positiveInt(allowed = "a positive integer"): z.ZodNumber {
  const error = `must be ${allowed}`;
  return z.number({ error }).int({ error }).min(1, { error });
}

/**
 * An integer >= 0 (and a safe integer).
 *
 * @param allowed What the message says is allowed (default `"a non-negative integer"`).
 */
export function nonNegativeInt(allowed = "a non-negative integer"): z.ZodNumber {
  const error = `must be ${allowed}`;
  return z.number({ error }).int({ error }).min(0, { error });
}

/** `true` or `false` (nothing truthy): "must be true or false". */
export function bool(): z.ZodBoolean {
  return z.boolean({ error: "must be true or false" });
}

/**
 * One of the given strings: `` must be "lf" or "keep" ``.
 *
 * @example
 * ```ts
 * const NewlineSchema = oneOf(["lf", "keep"]);
 * ```
 */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T): z.ZodEnum<{ [K in T[number]]: K }> {
  const quoted = values.map((v) => JSON.stringify(v));
  const allowed = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
  return z.enum(values, { error: `must be ${allowed}` }) as unknown as z.ZodEnum<{ [K in T[number]]: K }>;
}

/** A function (checked with `typeof`): "must be a function" (or `allowed`, e.g. `"a function (id) => void"`). */
export function fn<F extends (...args: never[]) => unknown>(allowed = "a function"): z.ZodCustom<F, F> {
  return z.custom<F>((value) => typeof value === "function", { error: `must be ${allowed}` });
}
