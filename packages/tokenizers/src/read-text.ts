import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { TokenizerError } from "./errors.js";
import { parseOptions } from "./options.js";

/** zod schema of `ReadTextOptions`. */
export const readTextOptionsSchema = z.strictObject({
  /**
   * `"lf"` (default): universal newlines like Python's `open(path, encoding="utf-8").read()`:
   * CRLF and lone CR become LF. `"keep"`: the text exactly as stored.
   */
  newline: z.enum(["lf", "keep"], { error: 'must be "lf" or "keep"' }).default("lf"),
});

/** Options of `readText` / `readTextSync`. */
export type ReadTextOptions = z.input<typeof readTextOptionsSchema>;

// ignoreBOM: a BOM is kept as U+FEFF, as in Python. Not fatal: invalid bytes become U+FFFD, as with
// Python's errors="replace" (pg84-cp1252.txt holds 1,207 stray cp1252 bytes; its golden counts assume this).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Reads a UTF-8 text file the way Python's `open(path, encoding="utf-8").read()` does: a BOM is
 * kept as U+FEFF and, by default, CRLF / CR become LF. Bytes that are not valid UTF-8 become U+FFFD
 * (as with `errors="replace"`; strict Python would raise instead).
 *
 * @param path File path.
 * @param options `{ newline: "lf" | "keep" }`, default `"lf"`.
 * @throws TokenizerError naming the path when the file is missing, a directory or unreadable.
 * @example
 * ```ts
 * const text = await readText("../shared/data/pg84.txt"); // BOM kept, CRLF -> LF
 * ```
 */
export async function readText(path: string, options?: ReadTextOptions): Promise<string> {
  const { newline } = parseOptions(readTextOptionsSchema, options ?? {}, "readText");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw readError(path, error);
  }
  return decodeText(bytes, newline);
}

/** Synchronous `readText`. */
export function readTextSync(path: string, options?: ReadTextOptions): string {
  const { newline } = parseOptions(readTextOptionsSchema, options ?? {}, "readTextSync");
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw readError(path, error);
  }
  return decodeText(bytes, newline);
}

function decodeText(bytes: Uint8Array, newline: "lf" | "keep"): string {
  const text = decoder.decode(bytes);
  return newline === "lf" ? text.replace(/\r\n?/g, "\n") : text;
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
