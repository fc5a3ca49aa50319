/**
 * Tokenizer files on disk (Node only): `saveTokenizer`, `readBpeModel`, `loadTokenizer`. The
 * formats are in `rank-file.ts` and `hf-tokenizer-json.ts`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { bpeModelOf, createBpeTokenizer } from "./bpe-factory.js";
import type { BpeModel } from "./bpe-model.js";
import { BpeTokenizer } from "./bpe-tokenizer.js";
import { TokenizerError } from "./errors.js";
import { fromHuggingFaceJson, toHuggingFaceJson } from "./hf-tokenizer-json.js";
import { formatRankFile, formatRankFileMeta, parseRankFile, parseRankFileMeta, type RankFileMeta } from "./rank-file.js";

/** The sidecar path of a rank file: `<rank file>.meta.json`. */
export function rankFileMetaPath(path: string): string {
  return `${path}.meta.json`;
}

/**
 * Writes a BPE tokenizer (or model) to disk. A path ending in `.json` gets a Hugging Face
 * `tokenizer.json`; any other path a tiktoken rank file plus its sidecar `<path>.meta.json`
 * (pattern and special tokens). See `rank-file.ts` and `hf-tokenizer-json.ts` for the formats.
 * Missing parent directories are created.
 *
 * @param path Where to write, e.g. `"runs/tok/tokens.tiktoken"` or `"runs/tok/tokenizer.json"`.
 * @param source A `BpeTokenizer` (e.g. `getTokenizer("gpt2")`, `createBpeTokenizer(model)`) or a model.
 * @returns The paths written.
 * @example
 * ```ts
 * saveTokenizer("tokens.tiktoken", trainBpe(text, { vocabSize: 4096 }));
 * loadTokenizer("tokens.tiktoken").encode("It was"); // the trained ids
 * ```
 */
export function saveTokenizer(path: string, source: BpeTokenizer | BpeModel): string[] {
  const model = source instanceof BpeTokenizer ? bpeModelOf(source) : source;
  try {
    mkdirSync(dirname(path), { recursive: true });
    if (path.endsWith(".json")) {
      writeFileSync(path, toHuggingFaceJson(model));
      return [path];
    }
    const metaPath = rankFileMetaPath(path);
    writeFileSync(path, formatRankFile(model.ranks));
    writeFileSync(metaPath, formatRankFileMeta(model));
    return [path, metaPath];
  } catch (error) {
    throw new TokenizerError(`cannot write the tokenizer to \`path\` ${JSON.stringify(path)}: ${(error as Error).message}`, "path");
  }
}

/**
 * Reads the model saved by `saveTokenizer`: a `tokenizer.json` (detected by its content, any
 * name) or a rank file with its `<path>.meta.json` sidecar.
 *
 * @throws TokenizerError naming the path when a file is missing or malformed.
 */
export function readBpeModel(path: string): BpeModel {
  const text = readFile(path);
  if (text.trimStart().startsWith("{")) return fromHuggingFaceJson(text);
  const metaPath = rankFileMetaPath(path);
  const meta = parseRankFileMeta(
    readFile(metaPath, `the sidecar ${JSON.stringify(metaPath)} (pattern and special tokens) of the rank file \`path\` ${JSON.stringify(path)}`),
  );
  const ranks = parseRankFile(text);
  checkRankFileModel(path, ranks, meta);
  return { ranks, pattern: meta.pattern, specialTokens: meta.specialTokens };
}

/**
 * A rank file and its sidecar must agree: ranks dense (`0..n-1`; unique is checked by the
 * parser), as many as the sidecar says when it says (a file cut at a line boundary parses but
 * has fewer), and special-token ids distinct and outside the ranks.
 *
 * @throws TokenizerError naming the file and the first disagreement.
 */
function checkRankFileModel(path: string, ranks: ReadonlyMap<string, number>, meta: RankFileMeta): void {
  const n = ranks.size;
  const where = `the rank file \`path\` ${JSON.stringify(path)}`;
  if (meta.numRanks !== undefined && meta.numRanks !== n) {
    throw new TokenizerError(`${where} has ${n} ranks, its sidecar says ${meta.numRanks}: the file is cut or belongs to another tokenizer`, "ranks");
  }
  let max = -1;
  for (const rank of ranks.values()) if (rank > max) max = rank;
  if (max !== n - 1) {
    throw new TokenizerError(`${where} has ${n} ranks but its largest is ${max}: ranks must be 0..${n - 1} with none missing`, "ranks");
  }
  const seen = new Map<number, string>();
  for (const [token, id] of Object.entries(meta.specialTokens)) {
    if (id < n) {
      throw new TokenizerError(`${where}: special token ${JSON.stringify(token)} has id ${id}, which is a rank (0..${n - 1}): the file or its sidecar is wrong`, "specialTokens");
    }
    const other = seen.get(id);
    if (other !== undefined) throw new TokenizerError(`${where}: special tokens ${JSON.stringify(other)} and ${JSON.stringify(token)} share id ${id}`, "specialTokens");
    seen.set(id, token);
  }
}

/**
 * Loads a tokenizer saved by `saveTokenizer` (same as `getTokenizer("bpe", { path })`; its
 * `spec` is `{ name: "bpe", options: { path } }`).
 *
 * @example
 * ```ts
 * const tok = loadTokenizer("runs/tok/tokenizer.json");
 * ```
 */
export function loadTokenizer(path: string): BpeTokenizer {
  return createBpeTokenizer(readBpeModel(path), { spec: { name: "bpe", options: { path } } });
}

function readFile(path: string, what = `the tokenizer file \`path\` ${JSON.stringify(path)}`): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TokenizerError(`cannot read ${what}${code === "ENOENT" ? ": no such file" : `: ${(error as Error).message}`}`, "path");
  }
}
