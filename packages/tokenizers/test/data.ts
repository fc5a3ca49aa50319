import path from "node:path";
import { fileURLToPath } from "node:url";

/** Repo root computed from this file (packages/tokenizers/test), so CI clones elsewhere work. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The shared test corpora (`../shared/data` next to the repo, or `TFGPT_DATA_DIR`). */
export const dataDir = process.env.TFGPT_DATA_DIR ?? path.resolve(repoRoot, "../shared/data");

export const dataFile = (name: string): string => path.join(dataDir, name);
