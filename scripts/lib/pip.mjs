// pip's configured package index, for the repo's tooling (setup:tensorflow, the bench's venv).
import { spawnSync } from "node:child_process";

/**
 * `--index-url` / `--extra-index-url` arguments built from `pip config list`: on a machine with a
 * local wheel mirror the default index (pypi.org) is unreachable and only costs retries, so the
 * first configured URL becomes the index and the others extra indexes. Empty when nothing is set.
 */
export function pipIndexArgs(python = "python3") {
  const r = spawnSync(python, ["-m", "pip", "config", "list"], { encoding: "utf8" });
  if (r.status !== 0) return [];
  const urls = { index: [], extra: [] };
  for (const line of r.stdout.split("\n")) {
    const m = /^[^=]*\.(index-url|extra-index-url)='(.*)'$/.exec(line.trim());
    if (m === null) continue;
    urls[m[1] === "index-url" ? "index" : "extra"].push(...m[2].split(/\s+/).filter(Boolean));
  }
  const all = [...new Set([...urls.index, ...urls.extra])];
  if (all.length === 0) return [];
  return ["--index-url", all[0], ...all.slice(1).flatMap((u) => ["--extra-index-url", u])];
}
