/**
 * Reading a training text for the CLI: `readText` from `@tfgpt/tokenizers/node` (Python's
 * `open(path).read()` semantics) behind checks that turn the usual mistakes (no such file, a
 * directory, an empty file) into one clear message each.
 */
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { readText } from "@tfgpt/tokenizers/node";
import { CliError } from "./errors.js";

/** How newlines are read: `"lf"` turns CRLF into LF (Python's default), `"keep"` keeps bytes. */
export type NewlineMode = "lf" | "keep";

/**
 * The text `tfgpt train` uses without `--text`: Edith Wharton's "The Verdict" (1908, public
 * domain), the book's own short story, shipped in this package's `data/` folder. Resolved from
 * this module's location so it works from any working directory and from an installed package.
 */
export const DEFAULT_TEXT_PATH = fileURLToPath(new URL("../data/the-verdict.txt", import.meta.url));

/**
 * Reads `file` as text.
 *
 * @param file path to a UTF-8 text file.
 * @param newline `"lf"` (default) or `"keep"`.
 * @returns the text, never empty.
 * @throws CliError when the file is missing, unreadable, a directory or empty.
 * @example const text = await readTextFile("../shared/data/pg84.txt");
 */
export async function readTextFile(file: string, newline: NewlineMode = "lf"): Promise<string> {
  let info;
  try {
    info = await stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === "ENOENT" ? `${file}: no such file` : `${file}: cannot read (${code ?? String(err)})`);
  }
  if (info.isDirectory()) throw new CliError(`${file} is a directory, expected a text file`);
  if (info.size === 0) throw new CliError(`${file} is empty`);
  let text: string;
  try {
    text = await readText(file, { newline });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${file}: cannot read (${code ?? (err as Error).message})`);
  }
  if (text.length === 0) throw new CliError(`${file} is empty`);
  return text;
}
