/**
 * The public API of each package entry, pinned: the sorted runtime export names of every entry
 * point must equal `public-api.json` (committed), so that an export added or removed is a visible
 * diff in review. After a deliberate change, update the list (the failure's diff shows the names)
 * and the package README's "API" section. Type-only exports are not listed (they have no runtime
 * name); the compiler checks those.
 *
 * Also pinned: a `/node` entry exports only Node-only names, not the browser entry a second time
 * (the exceptions are Node forms of a main-entry function that take paths instead of bytes).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pinned = JSON.parse(readFileSync(new URL("./public-api.json", import.meta.url), "utf8")) as Record<string, string[]>;

const ENTRIES = [
  "@tfgpt/common",
  "@tfgpt/common/node",
  "@tfgpt/tokenizers",
  "@tfgpt/tokenizers/core",
  "@tfgpt/tokenizers/node",
  "@tfgpt/datasets",
  "@tfgpt/datasets/node",
  "@tfgpt/datasets/tf",
  "@tfgpt/layers",
  "@tfgpt/layers/node",
  "@tfgpt/layers/internal",
] as const;

/** Names a `/node` entry shares with its main entry on purpose: the Node function reads a directory. */
const NODE_FORMS: Record<string, string[]> = {
  "@tfgpt/layers/node": ["fromPretrained", "loadAdapters"],
};

async function exportNames(entry: string): Promise<string[]> {
  return Object.keys((await import(entry)) as object).sort();
}

describe("public API", () => {
  it("lists every entry point in public-api.json", () => {
    expect(Object.keys(pinned).sort()).toEqual([...ENTRIES].sort());
  });

  for (const entry of ENTRIES) {
    it(`${entry} exports exactly the pinned names`, async () => {
      expect(await exportNames(entry)).toEqual(pinned[entry]);
    });
  }

  for (const entry of ENTRIES.filter((e) => e.endsWith("/node"))) {
    it(`${entry} does not re-export the main entry`, async () => {
      const main = new Set(await exportNames(entry.replace(/\/node$/, "")));
      const shared = (await exportNames(entry)).filter((name) => main.has(name));
      expect(shared).toEqual(NODE_FORMS[entry] ?? []);
    });
  }
});
