import { z } from "zod";
import { TokenizerError } from "./errors.js";
import { parseOptions } from "./options.js";
import { ByteTokenizer } from "./byte.js";
import { SimpleTokenizerV2 } from "./simple.js";
import { getTiktoken, TIKTOKEN_ENCODINGS } from "./tiktoken.js";
import { bpeTokenizerFactory, type TokenizerFileReader } from "./bpe-factory.js";
import type { Tokenizer } from "./tokenizer.js";

/**
 * Builds a tokenizer from the options passed to `getTokenizer` (already `undefined` when none
 * were given). A factory validates its own options (ideally with a zod schema).
 */
export type TokenizerFactory = (options: unknown) => Tokenizer;

const factories = new Map<string, TokenizerFactory>();

/**
 * Makes a tokenizer available by name to `getTokenizer` (and so to datasets, the CLI and
 * checkpoints, which store `tokenizer.spec`).
 *
 * @param name Registry name, a non-empty string not registered yet.
 * @param factory Builds the tokenizer from `getTokenizer`'s options.
 * @example
 * ```ts
 * registerTokenizer("chars", () => myCharTokenizer);
 * getTokenizer("chars");
 * ```
 */
export function registerTokenizer(name: string, factory: TokenizerFactory): void {
  if (typeof name !== "string" || name === "") {
    throw new TokenizerError(`\`name\` must be a non-empty string, received ${JSON.stringify(name)}`, "name");
  }
  if (typeof factory !== "function") {
    throw new TokenizerError(`\`factory\` must be a function, received ${typeof factory}`, "factory");
  }
  if (factories.has(name)) {
    throw new TokenizerError(`a tokenizer named ${JSON.stringify(name)} is already registered`, "name");
  }
  factories.set(name, factory);
}

/**
 * The tokenizer registered under `name`, built with `options`. Synchronous: tiktoken rank data
 * ships with the package and is decoded on first use (then cached per encoding).
 *
 * @param name e.g. `"gpt2"`, `"cl100k_base"`, `"simple"`, `"byte"` (see `listTokenizers()`).
 * @param options The tokenizer's options (`{}` or none for the tiktoken encodings).
 * @throws TokenizerError for an unknown name (the message lists the known ones) or bad options.
 * @example
 * ```ts
 * const tok = getTokenizer("gpt2");
 * tok.decode(tok.encode("Hello, world")); // "Hello, world"
 * ```
 */
export function getTokenizer(name: string, options?: unknown): Tokenizer {
  const factory = typeof name === "string" ? factories.get(name) : undefined;
  if (factory === undefined) {
    throw new TokenizerError(
      `unknown tokenizer ${JSON.stringify(name)} (known: ${listTokenizers().join(", ")})`,
      "name",
    );
  }
  return factory(options);
}

/** Names of all registered tokenizers, sorted. */
export function listTokenizers(): string[] {
  return [...factories.keys()].sort();
}

const NoOptionsSchema = z.strictObject({});

for (const encoding of TIKTOKEN_ENCODINGS) {
  registerTokenizer(encoding, (options) => {
    parseOptions(NoOptionsSchema, options, `getTokenizer(${JSON.stringify(encoding)})`);
    return getTiktoken(encoding);
  });
}

// {ranks, pattern, specialTokens} and {json} work everywhere; {path} once "@tfgpt/tokenizers/node" is imported.
registerTokenizer("bpe", bpeTokenizerFactory());

registerTokenizer("simple", (options) => SimpleTokenizerV2.fromOptions(options));
registerTokenizer("byte", (options) => {
  parseOptions(NoOptionsSchema, options, 'getTokenizer("byte")');
  return new ByteTokenizer();
});

/**
 * Gives the built-in `"bpe"` tokenizer a file reader, so that `getTokenizer("bpe", { path })` (and
 * every spec saved with a path, e.g. in a checkpoint) reads files. `@tfgpt/tokenizers/node` calls
 * it once, with `readBpeModel`, when it is imported. The registry stays the one table of what
 * `getTokenizer` builds (no module keeps a reader on the side); this is not exported from the
 * package entries.
 */
export function enableBpeFileReading(readFile: TokenizerFileReader): void {
  factories.set("bpe", bpeTokenizerFactory(readFile));
}
