/**
 * Writing a file so that readers see the old content or the new, never a part: the data goes to
 * a temp name beside the file, then one `rename` replaces it. Used for every file the CLI writes.
 */
import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";

/** Replaces `file` atomically (temp file beside it, then rename over it); no temp file is left on failure. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
