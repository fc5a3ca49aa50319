/**
 * zod building blocks for the command configs. Flags arrive as strings from `parseArgs`; these
 * schemas accept a string or a number (so programmatic callers may pass numbers) and fail with
 * a message that names the flag, the value received and what is allowed, e.g.
 * "`--max-length` must be an integer >= 1, received \"abc\"".
 */
import { z } from "zod";

function describe(raw: unknown): string {
  return JSON.stringify(raw) ?? String(raw);
}

/** A decimal integer, optionally signed: no hex (`0x10`), exponent (`1e1`), fraction or spaces. */
const INTEGER = /^[+-]?\d+$/;
/** A decimal number: `3`, `-0.5`, `.5`, `3e-4`; no hex, `Infinity` or spaces. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function toNumber(raw: string | number, pattern = DECIMAL): number {
  if (typeof raw === "number") return raw;
  // Number("") is 0, Number(" 1") 1, Number("0x10") 16: a flag value must be a plain decimal.
  return pattern.test(raw) ? Number(raw) : Number.NaN;
}

/** Upper bounds of count flags: beyond them a value is a typo, not a plan (and may overflow). */
export const LIMITS = {
  /** Optimizer steps (`--steps`, `--checkpoint-every`, `--eval-every`). */
  steps: 1_000_000_000,
  /** Passes over the data. */
  epochs: 1_000_000,
  /** Tokens per window (`--context`, `--max-length`). */
  context: 1 << 20,
  /** Windows per batch. */
  batchSize: 1 << 16,
  /** Tokens between window starts. */
  stride: 2 ** 31 - 1,
} as const;

/**
 * An integer flag in `[min, max]`.
 *
 * @param flag the flag's name without dashes, used in the message (e.g. `"max-length"`).
 * @param min smallest allowed value (default 1).
 * @param max largest allowed value (default `Number.MAX_SAFE_INTEGER`).
 * @example integerFlag("steps").parse("300") // 300
 */
export function integerFlag(flag: string, min = 1, max = Number.MAX_SAFE_INTEGER) {
  const allowed = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
  return z.union([z.string(), z.number()]).transform((raw, ctx) => {
    const value = toNumber(raw, INTEGER);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      ctx.addIssue({ code: "custom", message: `\`--${flag}\` must be ${allowed}, received ${describe(raw)}` });
      return z.NEVER;
    }
    return value;
  });
}

/**
 * A finite number flag in `[min, max]` (or `(min, max]` with `exclusiveMin`).
 *
 * @param flag the flag's name without dashes, used in the message.
 * @param range bounds, both optional; `exclusiveMin` makes the lower bound strict.
 * @example numberFlag("lr", { min: 0, exclusiveMin: true }).parse("3e-3") // 0.003
 */
export function numberFlag(flag: string, range: { min?: number; max?: number; exclusiveMin?: boolean } = {}) {
  const { min = -Infinity, max = Infinity, exclusiveMin = false } = range;
  const parts: string[] = [];
  if (min > -Infinity) parts.push(`${exclusiveMin ? ">" : ">="} ${min}`);
  if (max < Infinity) parts.push(`<= ${max}`);
  const allowed = `a number${parts.length > 0 ? ` ${parts.join(" and ")}` : ""}`;
  return z.union([z.string(), z.number()]).transform((raw, ctx) => {
    const value = toNumber(raw);
    const tooSmall = exclusiveMin ? value <= min : value < min;
    if (!Number.isFinite(value) || tooSmall || value > max) {
      ctx.addIssue({ code: "custom", message: `\`--${flag}\` must be ${allowed}, received ${describe(raw)}` });
      return z.NEVER;
    }
    return value;
  });
}

/**
 * A flag whose value is one of a fixed list.
 *
 * @example choiceFlag("newline", ["lf", "keep"]).parse("lf") // "lf"
 */
export function choiceFlag<const T extends readonly [string, ...string[]]>(flag: string, choices: T) {
  return z.string().transform((raw, ctx) => {
    if (!(choices as readonly string[]).includes(raw)) {
      ctx.addIssue({
        code: "custom",
        message: `\`--${flag}\` must be one of ${choices.join(", ")}, received ${describe(raw)}`,
      });
      return z.NEVER;
    }
    return raw as T[number];
  });
}

/** A non-empty string flag (a path, a prompt, a name). */
export function stringFlag(flag: string) {
  return z.string().refine((s) => s.length > 0, { message: `\`--${flag}\` must not be empty` });
}

/** How newlines are read from a text file: `"lf"` (Python's default, CRLF -> LF) or `"keep"`. */
export const newlineFlag = choiceFlag("newline", ["lf", "keep"]);

/** The values of `--backend`: `auto` picks the fastest installed (TensorFlow, then wasm, then cpu). */
export const BACKEND_CHOICES = ["auto", "tensorflow", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** zod schema of `--backend` (default `"auto"`). */
export const backendFlag = choiceFlag("backend", BACKEND_CHOICES).default("auto");
