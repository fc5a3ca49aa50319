import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { TokenizerError } from "./errors.js";
import { parseOptions } from "./options.js";

/** zod schema of `ReadTextOptions`. */
export const ReadTextOptionsSchema = z.strictObject({
  /**
   * `"lf"` (default): universal newlines like Python's `open(path, encoding="utf-8").read()`:
   * CRLF and lone CR become LF. `"keep"`: the text exactly as stored.
   */
  newline: z.enum(["lf", "keep"], { error: 'must be "lf" or "keep"' }).default("lf"),
  /**
   * What to do with bytes that are not valid UTF-8: `"replace"` (default) turns each maximal
   * invalid sequence into U+FFFD, as Python's `errors="replace"` and `TextDecoder` do, and reports
   * how many (see `onInvalidUtf8`); `"strict"` throws a `TokenizerError` naming the file and the
   * byte offset of the first one, as Python's default `errors="strict"`.
   */
  errors: z.enum(["replace", "strict"], { error: 'must be "replace" or "strict"' }).default("replace"),
  /**
   * Called when `errors: "replace"` replaced invalid bytes, with their count (U+FFFD inserted) and
   * the byte offset of the first. Default: a Node warning (`TFGPT_INVALID_UTF8`) saying the same,
   * once per call; pass a function to count or log them yourself (or `() => {}` to be silent).
   */
  onInvalidUtf8: z
    .custom<(report: InvalidUtf8Report) => void>((value) => typeof value === "function", { error: "must be a function" })
    .optional(),
});

/** What `readText` reports about invalid UTF-8 it replaced. */
export interface InvalidUtf8Report {
  /** The file. */
  readonly path: string;
  /** U+FFFD characters inserted (one per maximal invalid byte sequence; pg84-cp1252.txt: 1,207). */
  readonly replaced: number;
  /** Byte offset of the first invalid byte. */
  readonly firstOffset: number;
}

/** Options of `readText` / `readTextSync`. */
export type ReadTextOptions = z.input<typeof ReadTextOptionsSchema>;

// ignoreBOM: a BOM is kept as U+FEFF, as in Python. Not fatal: invalid bytes become U+FFFD, as with
// Python's errors="replace" (pg84-cp1252.txt holds 1,207 stray cp1252 bytes; its golden counts assume this).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

type ParsedOptions = z.output<typeof ReadTextOptionsSchema>;

/**
 * Reads a UTF-8 text file the way Python's `open(path, encoding="utf-8").read()` does: a BOM is
 * kept as U+FEFF and, by default, CRLF / CR become LF. Bytes that are not valid UTF-8 become U+FFFD
 * by default (as with Python's `errors="replace"`), and their count is reported to
 * `onInvalidUtf8` (default: a Node warning); with `errors: "strict"` they are an error, as in
 * Python's default. A file in another encoding (e.g. Windows-1252, as `pg84-cp1252.txt`) is the
 * usual cause: re-encode it as UTF-8 (`iconv -f cp1252 -t utf-8`).
 *
 * @param path File path.
 * @param options `newline` (`"lf"` default, or `"keep"`), `errors` (`"replace"` default, or
 *   `"strict"`), `onInvalidUtf8` (a callback; default a Node warning).
 * @throws TokenizerError naming the path when the file is missing, a directory or unreadable, or
 *   (with `errors: "strict"`) holds invalid UTF-8.
 * @example
 * ```ts
 * const text = await readText("../shared/data/pg84.txt"); // BOM kept, CRLF -> LF
 * ```
 */
export async function readText(path: string, options?: ReadTextOptions): Promise<string> {
  const parsed = parseOptions(ReadTextOptionsSchema, options, "readText");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw readError(path, error);
  }
  return decodeText(bytes, path, parsed);
}

/** Synchronous `readText`. */
export function readTextSync(path: string, options?: ReadTextOptions): string {
  const parsed = parseOptions(ReadTextOptionsSchema, options, "readTextSync");
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw readError(path, error);
  }
  return decodeText(bytes, path, parsed);
}

function decodeText(bytes: Uint8Array, path: string, options: ParsedOptions): string {
  const text = decoder.decode(bytes);
  // U+FFFD in the text is either a replacement or a valid EF BF BD in the file (rare): only then scan.
  if (text.includes("\ufffd")) {
    const replaced = countOf(text, "\ufffd") - countReplacementChars(bytes);
    if (replaced > 0) {
      const firstOffset = firstInvalidUtf8(bytes);
      if (options.errors === "strict") {
        throw new TokenizerError(
          `cannot read ${JSON.stringify(path)} as UTF-8: byte ${firstOffset} (0x${(bytes[firstOffset] as number).toString(16).padStart(2, "0")}) is not valid UTF-8 ` +
            `(${replaced} invalid sequence${replaced === 1 ? "" : "s"}); re-encode the file as UTF-8 or pass errors: "replace"`,
          "errors",
        );
      }
      const report: InvalidUtf8Report = { path, replaced, firstOffset };
      if (options.onInvalidUtf8 !== undefined) options.onInvalidUtf8(report);
      else {
        process.emitWarning(
          `${path}: ${replaced} invalid UTF-8 sequence${replaced === 1 ? "" : "s"} replaced by U+FFFD (the first at byte ${firstOffset}); ` +
            'is the file in another encoding? Pass errors: "strict" to fail, or onInvalidUtf8 to handle this',
          { code: "TFGPT_INVALID_UTF8" },
        );
      }
    }
  }
  return options.newline === "lf" ? text.replace(/\r\n?/g, "\n") : text;
}

function countOf(text: string, char: string): number {
  let count = 0;
  for (let i = text.indexOf(char); i !== -1; i = text.indexOf(char, i + 1)) count++;
  return count;
}

/** Valid U+FFFD characters in the bytes (EF BF BD: EF is never a continuation byte, so each is one). */
function countReplacementChars(bytes: Uint8Array): number {
  let count = 0;
  for (let i = bytes.indexOf(0xef); i !== -1 && i + 2 < bytes.length; i = bytes.indexOf(0xef, i + 1)) {
    if (bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) count++;
  }
  return count;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let i = 0; i < n; ) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= n) return i; // truncated at the end
    const second = bytes[i + 1] as number;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

function readError(path: string, error: unknown): TokenizerError {
  const code = (error as { code?: string }).code;
  const why =
    code === "ENOENT"
      ? "no such file"
      : code === "EISDIR"
        ? "it is a directory, not a file"
        : code === "EACCES"
          ? "permission denied"
          : ((error as Error).message ?? String(error));
  return new TokenizerError(`cannot read ${JSON.stringify(path)}: ${why}`, "path");
}
