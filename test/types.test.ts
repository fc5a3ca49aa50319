/**
 * The published types resolve for a consumer under every `moduleResolution` a user may have:
 * `node10` (through each package's `typesVersions`), `node16` and `bundler` (through `exports`).
 * `types-consumer/consumer.ts` imports every entry point; tsc type-checks it without emitting.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const REPO_ROOT = path.resolve(import.meta.dirname, "..");
const TSC = path.join(REPO_ROOT, "node_modules/typescript/bin/tsc");
const CONSUMER = path.join(import.meta.dirname, "types-consumer/consumer.ts");
const PACKAGES = ["common", "tokenizers", "datasets", "layers", "examples"];

type Exports = Record<string, string | { types?: string; default?: string }>;
interface PackageJson {
  name: string;
  types?: string;
  exports: Exports;
  typesVersions?: Record<string, Record<string, string[]>>;
}

function packageJson(name: string): PackageJson {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, "packages", name, "package.json"), "utf8")) as PackageJson;
}

async function tsc(moduleResolution: string, module: string): Promise<string> {
  const args = [TSC, "--noEmit", "--strict", "--skipLibCheck", "--noUncheckedSideEffectImports", "--target", "es2022", "--types", "node"];
  try {
    await promisify(execFile)(process.execPath, [...args, "--moduleResolution", moduleResolution, "--module", module, CONSUMER], { cwd: REPO_ROOT });
    return "";
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
    return `${stdout ?? ""}${stderr ?? ""}` || message;
  }
}

describe("types for consumers", () => {
  it("every subpath export has a typesVersions entry naming the same .d.ts (node10 resolution)", () => {
    for (const name of PACKAGES) {
      const pkg = packageJson(name);
      const mapped = pkg.typesVersions?.["*"] ?? {};
      const expected: Record<string, string[]> = {};
      for (const [key, target] of Object.entries(pkg.exports)) {
        if (key === "." || key === "./package.json" || typeof target === "string" || target.types === undefined) continue;
        expected[key.slice(2)] = [target.types];
      }
      expect(mapped, pkg.name).toEqual(expected);
      const root = pkg.exports["."];
      expect(typeof root === "object" ? root.types : undefined, pkg.name).toBe(pkg.types);
    }
  });

  it("a consumer importing every entry type-checks under node10, node16 and bundler", async () => {
    const [node10, node16, bundler] = await Promise.all([tsc("node10", "esnext"), tsc("node16", "node16"), tsc("bundler", "esnext")]);
    expect(node10).toBe("");
    expect(node16).toBe("");
    expect(bundler).toBe("");
  });
});
