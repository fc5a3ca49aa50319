/**
 * What `npm pack` ships is self-consistent: every file an `exports`/`types`/`bin` entry names is in
 * the tarball, every source map's sources resolve inside it (or are inlined: `inlineSources`, as
 * tfjs ships its maps), and internal dependencies take `^` ranges.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const REPO_ROOT = path.resolve(import.meta.dirname, "..");
const PACKAGES = ["common", "tokenizers", "datasets", "layers", "examples"];

interface SourceMap {
  sources: string[];
  sourcesContent?: (string | null)[];
}

async function packedFiles(name: string): Promise<Set<string>> {
  const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: path.join(REPO_ROOT, "packages", name),
    maxBuffer: 64 * 1024 * 1024,
  });
  const [report] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  return new Set(report.files.map((f) => f.path));
}

function exportTargets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(exportTargets);
}

describe("npm pack", () => {
  const packs = new Map(PACKAGES.map((name) => [name, packedFiles(name)] as const));

  for (const name of PACKAGES) {
    it(`@tfgpt/${name}: every source map resolves inside the tarball`, async () => {
      const files = await packs.get(name)!;
      const maps = [...files].filter((f) => f.endsWith(".map"));
      expect(maps.length).toBeGreaterThan(0);
      const unresolved: string[] = [];
      for (const map of maps) {
        const parsed = JSON.parse(readFileSync(path.join(REPO_ROOT, "packages", name, map), "utf8")) as SourceMap;
        parsed.sources.forEach((source, i) => {
          const inTarball = files.has(path.posix.join(path.posix.dirname(map), source));
          const inlined = typeof parsed.sourcesContent?.[i] === "string";
          if (!inTarball && !inlined) unresolved.push(`${map} -> ${source}`);
        });
      }
      expect(unresolved).toEqual([]);
    });

    it(`@tfgpt/${name}: exports, types and bin name packed files; internal dependencies take ^ ranges`, async () => {
      const files = await packs.get(name)!;
      const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "packages", name, "package.json"), "utf8")) as Record<string, unknown>;
      const targets = [pkg.main, pkg.types, ...exportTargets(pkg.exports), ...exportTargets(pkg.bin)]
        .filter((t): t is string => typeof t === "string" && !t.includes("*") && t !== "./package.json")
        .map((t) => path.posix.normalize(t));
      expect(targets.filter((t) => !files.has(t))).toEqual([]);
      for (const field of ["dependencies", "peerDependencies", "devDependencies"]) {
        for (const [dep, range] of Object.entries((pkg[field] ?? {}) as Record<string, string>)) {
          if (dep.startsWith("@tfgpt/")) expect(`${dep}@${range}`).toMatch(/@\^\d+\.\d+\.\d+$/);
        }
      }
    });
  }
});
