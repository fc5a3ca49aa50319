/**
 * `@tfgpt/tokenizers/core` holds no rank table: encodings come from `encodings/<name>` modules or
 * `loadTiktoken`, so a bundle pays only for what it imports. (Each vitest file has its own module
 * registry, so nothing else has registered an encoding here.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { getTokenizer, isTiktokenLoaded, loadTiktoken, TIKTOKEN_ENCODINGS } from "../src/core.js";

describe("entry points", () => {
  it("core registers no encoding; loadTiktoken loads one, then getTokenizer is synchronous", async () => {
    for (const name of TIKTOKEN_ENCODINGS) expect(isTiktokenLoaded(name)).toBe(false);
    expect(() => getTokenizer("gpt2")).toThrow(/the ranks of gpt2 are not loaded: import "@tfgpt\/tokenizers\/encodings\/gpt2"/);
    const gpt2 = await loadTiktoken("gpt2");
    expect(gpt2.encode("hello world")).toEqual([31373, 995]);
    expect(getTokenizer("gpt2")).toBe(gpt2);
    expect(isTiktokenLoaded("gpt2")).toBe(true);
    expect(isTiktokenLoaded("o200k_base")).toBe(false);
    await import("../src/encodings/cl100k_base.js");
    expect(getTokenizer("cl100k_base").encode("hello world")).toEqual([15339, 1917]);
  });

  it('lists every module with import-time effects in package.json "sideEffects", and exports core and encodings/*', () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      sideEffects: string[];
      exports: Record<string, unknown>;
    };
    const src = new URL("../src/", import.meta.url);
    const files = [...readdirSync(src).filter((f) => f.endsWith(".ts")), ...readdirSync(new URL("encodings/", src)).map((f) => `encodings/${f}`)];
    const listed = (file: string): boolean =>
      pkg.sideEffects.some((pattern) => new RegExp(`^${pattern.replace(/\./g, "\\.").replace("*", "[^/]+")}$`).test(`./dist/${file.replace(/\.ts$/, ".js")}`));
    const effectful = files.filter((file) => {
      const text = readFileSync(new URL(file, src), "utf8");
      // Top-level statements that do something when the module is evaluated: a call or a loop, or a
      // bare import of a module that is not itself listed (a listed one is kept by bundlers anyway).
      const bareImports = [...text.matchAll(/^import "\.\/([^"]+)\.js";/gm)].map((m) => `${file.includes("/") ? "encodings/" : ""}${m[1]}.ts`);
      return /^([A-Za-z_$][\w$.]*\(|for \(|if \()/m.test(text) || bareImports.some((target) => !listed(target));
    });
    expect(effectful.filter((file) => !listed(file))).toEqual([]);
    expect(effectful).toEqual(expect.arrayContaining(["registry.ts", "encodings/gpt2.ts", "node.ts", "parallel-worker.ts"]));
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining([".", "./core", "./encodings/*", "./node"]));
  });
});
