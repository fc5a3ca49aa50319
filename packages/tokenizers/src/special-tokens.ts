import { z } from "zod";
import { TokenizerError } from "./errors.js";
import type { EncodeOptions } from "./tokenizer.js";
import { parseOptions } from "./options.js";

const SpecialTokenSetSchema = z.union([z.literal("all"), z.array(z.string())], {
  error: 'must be "all" or an array of special-token strings',
});

/** zod schema of `EncodeOptions` (the call options of `Tokenizer.encode`). */
export const EncodeOptionsSchema = z.strictObject({
  allowedSpecial: SpecialTokenSetSchema.optional(),
  disallowedSpecial: SpecialTokenSetSchema.default("all"),
});

/** The special-token rule of one `encode` call, resolved against a tokenizer's special tokens. */
export interface SpecialTokenPolicy {
  /** Special tokens encoded as their id when they occur in the text. */
  readonly allowed: ReadonlySet<string>;
  /** Special tokens whose presence in the text is an error. */
  readonly disallowed: readonly string[];
}

/**
 * Resolves `allowedSpecial` / `disallowedSpecial` with tiktoken's rule: by default nothing is
 * allowed and everything not allowed is disallowed. As in tiktoken, names in `allowedSpecial`
 * that are not special tokens of this tokenizer are ignored, and the strings listed in
 * `disallowedSpecial` are searched for in the text whether or not they are special tokens.
 *
 * @param options The call options of `encode` (validated here).
 * @param specialTokens The tokenizer's special tokens.
 * @param tokenizerName Used in error messages.
 */
export function resolveSpecialTokens(
  options: EncodeOptions | undefined,
  specialTokens: ReadonlyMap<string, number>,
  tokenizerName: string,
): SpecialTokenPolicy {
  const parsed = parseOptions(EncodeOptionsSchema, options, `${tokenizerName}.encode`);
  const all = [...specialTokens.keys()];
  const allowedList =
    parsed.allowedSpecial === undefined ? [] : parsed.allowedSpecial === "all" ? all : parsed.allowedSpecial.filter((name) => specialTokens.has(name));
  const allowed = new Set(allowedList);
  const disallowed = parsed.disallowedSpecial === "all" ? all.filter((name) => !allowed.has(name)) : [...new Set(parsed.disallowedSpecial)].filter((name) => name !== "");
  return { allowed, disallowed };
}

/**
 * Throws a `TokenizerError` naming the first disallowed special token that occurs in `text`
 * (tiktoken's rule: such text is an error, never silently encoded).
 */
export function assertNoDisallowedSpecial(text: string, disallowed: readonly string[], tokenizerName: string): void {
  let first = -1;
  let token = "";
  for (const name of disallowed) {
    // indexOf is a fast native scan; the earliest occurrence is reported, as tiktoken does.
    const at = text.indexOf(name);
    if (at !== -1 && (first === -1 || at < first || (at === first && name.length > token.length))) {
      first = at;
      token = name;
    }
  }
  if (first !== -1) {
    throw new TokenizerError(
      `the text contains the special token ${JSON.stringify(token)} at index ${first}, which is not allowed by ${tokenizerName}.encode; ` +
        `pass allowedSpecial: [${JSON.stringify(token)}] (or "all") to encode it as its id, or disallowedSpecial: [] to encode it as plain text`,
      "disallowedSpecial",
    );
  }
}

/** Escapes a literal string for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$*+?.()|[\]{}]/g, "\\$&");
}

/**
 * A RegExp that finds any of `tokens` (in the given order, so that ties between tokens that start
 * at the same index resolve as in tiktoken), or `undefined` when there are none.
 */
export function specialTokenRegExp(tokens: readonly string[]): RegExp | undefined {
  return tokens.length === 0 ? undefined : new RegExp(tokens.map(escapeRegExp).join("|"), "g");
}

/**
 * Splits `text` around the allowed special tokens, the way tiktoken does: every special token is
 * searched for, an occurrence that is not allowed is skipped (it stays ordinary text).
 *
 * @param onText Called with the range `[start, end)` of each ordinary-text segment (possibly empty).
 * @param onSpecial Called with each allowed special token found, in order.
 */
export function splitOnSpecialTokens(
  text: string,
  specialRegExp: RegExp | undefined,
  allowed: ReadonlySet<string>,
  onText: (start: number, end: number) => void,
  onSpecial: (token: string) => void,
): void {
  if (specialRegExp === undefined || allowed.size === 0) {
    onText(0, text.length);
    return;
  }
  let start = 0;
  for (;;) {
    let found: RegExpExecArray | null = null;
    let from = start;
    for (;;) {
      specialRegExp.lastIndex = from;
      found = specialRegExp.exec(text);
      if (found === null || allowed.has(found[0])) break;
      from = found.index + 1;
    }
    const end = found === null ? text.length : found.index;
    onText(start, end);
    if (found === null) return;
    onSpecial(found[0]);
    start = found.index + found[0].length;
  }
}
