import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainBpe } from "../src/bpe-trainer.js";
import { unicodeTable, WHITE_SPACE_BIT } from "../src/unicode.js";
import { createBpeTokenizer } from "../src/bpe-factory.js";
import { getTokenizer } from "../src/index.js";
import { encodeBatch, encodeFile, encodeParallel, findSafeCuts, ParallelEncoder, readTextSync } from "../src/node.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const dataDir = process.env.TFGPT_DATA_DIR ?? path.resolve(repoRoot, "../shared/data");
const pg84 = path.join(dataDir, "pg84.txt");

/** Text built to break naive cutting: line breaks after spaces, CR, punctuation, specials, emoji, lone surrogates. */
function adversarialText(length: number, seed: number): string {
  const parts = [
    "\n", "\n\n", "\n\n\n", "\r\n", " \n", "  \n", "\t\n", "\n ", "\n  x", ".\n", "!\n\n", "'s\n", "\n's", "'ll",
    "word", "Word", "ünï", "東京", "\u{1F600}", "\u{1F468}\u200D\u{1F469}", "\ud800", "\udc00x", "12345", "3.14",
    " ", "   ", "\t", "<|endoftext|>", "<|endoftext|>\n", "\n<|endoftext|>", "<|endo", "ftext|>", "--", "\u00a0", "\u2028",
    "\x85", "\x85\n", "\ufeff\n", "\ufeff", "'ſ\n", "\u088f\n",
  ];
  let state = seed >>> 0;
  let out = "";
  while (out.length < length) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    out += parts[state % parts.length];
  }
  return out;
}

const allowAll = { allowedSpecial: "all" } as const;

beforeAll(() => {
  // Workers run the built script (dist/parallel-worker.js); the test target depends on the build.
  expect(existsSync(path.resolve(here, "../dist/parallel-worker.js")), "build the package first: npx tsc -b").toBe(true);
});

describe("encodeParallel / encodeFile", () => {
  it("gives Frankenstein's single-threaded gpt2 ids exactly, cut in many chunks", async () => {
    const ids = await encodeFile(pg84, { encoding: "gpt2", workers: 2, chunkSize: 20_000 });
    const text = readTextSync(pg84);
    expect(findSafeCuts(text, gpt2Pattern(), ["<|endoftext|>"], 20_000).length).toBeGreaterThan(15);
    expect(ids.length).toBe(106_390); // the UTF-8 pg84.txt (README of ../shared/data)
    expect(Array.from(ids)).toEqual(getTokenizer("gpt2").encode(text));
  });

  const pool: { gpt2?: ParallelEncoder; cl100k?: ParallelEncoder } = {};
  afterAll(async () => {
    await pool.gpt2?.close();
    await pool.cl100k?.close();
  });

  it.each([1, 2, 3])("matches gpt2 on adversarial text (seed %i), specials allowed or not", async (seed) => {
    pool.gpt2 ??= new ParallelEncoder({ encoding: "gpt2", workers: 2, chunkSize: 500 });
    const text = adversarialText(60_000, seed);
    const cuts = findSafeCuts(text, gpt2Pattern(), ["<|endoftext|>"], 500);
    expect(cuts.length).toBeGreaterThan(40);
    const gpt2 = getTokenizer("gpt2");
    expect(Array.from(await pool.gpt2.encode(text, allowAll))).toEqual(gpt2.encode(text, allowAll));
    const plain = { disallowedSpecial: [] };
    expect(Array.from(await pool.gpt2.encode(text, plain))).toEqual(gpt2.encode(text, plain));
  });

  it("matches cl100k_base, whose pattern keeps punctuation with the line break after it", async () => {
    pool.cl100k ??= new ParallelEncoder({ encoding: "cl100k_base", workers: 2, chunkSize: 300 });
    const text = adversarialText(40_000, 7);
    const cl100k = getTokenizer("cl100k_base");
    expect(Array.from(await pool.cl100k.encode(text, allowAll))).toEqual(cl100k.encode(text, allowAll));
  });

  it("rebuilds a trained in-memory tokenizer in the workers from its spec", async () => {
    const corpus = readTextSync(pg84).slice(0, 30_000);
    const tok = createBpeTokenizer(trainBpe(corpus, { vocabSize: 300, pattern: "\\p{L}+|\\p{N}|\\s+(?!\\S)|\\s+|[^\\s\\p{L}\\p{N}]+" }));
    const text = adversarialText(20_000, 11) + corpus;
    const ids = await encodeParallel(text, { tokenizer: tok, workers: 2, chunkSize: 1_000, ...allowAll });
    expect(Array.from(ids)).toEqual(tok.encode(text, allowAll));
  });

  it("throws the single-threaded error for a disallowed special token, and checks its options", async () => {
    const text = "a\nb<|endoftext|>";
    expect(() => getTokenizer("gpt2").encode(text)).toThrow(/contains the special token "<\|endoftext\|>" at index 3/);
    await expect(encodeParallel(text)).rejects.toThrow(/contains the special token "<\|endoftext\|>" at index 3/);
    await expect(encodeParallel(text, { workers: 0 })).rejects.toThrow(/`workers` must be a positive integer, received 0/);
    await expect(encodeParallel(text, { encoding: "gpt2", tokenizer: { name: "gpt2" } })).rejects.toThrow(/`encoding` and `tokenizer` are exclusive/);
    await expect(encodeParallel(text, { encoding: "nope" })).rejects.toThrow(/unknown tokenizer "nope"/);
    expect(Array.from(await encodeParallel(""))).toEqual([]);
  });
});

describe("findSafeCuts", () => {
  it("cuts only where encoding both sides separately changes nothing", () => {
    const gpt2 = getTokenizer("gpt2");
    const text = adversarialText(20_000, 5);
    const cuts = findSafeCuts(text, gpt2Pattern(), ["<|endoftext|>"], 200);
    expect(cuts.length).toBeGreaterThan(20);
    for (const cut of cuts) {
      // Not whitespace for tiktoken (Rust's \s: U+FEFF is not, U+0085 is).
      expect((unicodeTable()[text.charCodeAt(cut - 1)] as number) & WHITE_SPACE_BIT).toBe(0);
      expect([...gpt2.encode(text.slice(0, cut), allowAll), ...gpt2.encode(text.slice(cut), allowAll)]).toEqual(gpt2.encode(text, allowAll));
    }
  });

  it("never cuts patterns that look behind or at the ends, nor text without line breaks", () => {
    const text = "abc\ndef\n".repeat(1_000);
    expect(findSafeCuts(text, "\\b\\w+\\b|\\s", [], 10)).toEqual([]);
    expect(findSafeCuts(text, "(?<=c)\\n|[a-z]+|\\n", [], 10)).toEqual([]);
    expect(findSafeCuts(text, "^\\w+|\\w+|\\s", [], 10)).toEqual([]);
    expect(findSafeCuts("x ".repeat(5_000), gpt2Pattern(), [], 10)).toEqual([]);
    expect(findSafeCuts(text, "[^\\s]+|\\s", [], 10).length).toBeGreaterThan(100);
  });
});

describe("worker lifetime", () => {
  it("lets the process exit with a pool left open", () => {
    const script = `
      import { ParallelEncoder } from ${JSON.stringify(path.resolve(here, "../dist/node.js"))};
      const pool = new ParallelEncoder({ encoding: "gpt2", workers: 2 });
      const ids = await pool.encode("Hello\\nworld\\n".repeat(1000));
      process.stdout.write(String(ids.length) + "\\n"); // console.log colours numbers when CI sets FORCE_COLOR
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe("4000");
  });
});

function gpt2Pattern(): string {
  return (getTokenizer("gpt2") as unknown as { core: { pattern: string } }).core.pattern;
}

describe("encodeBatch (tiktoken's encode_batch, on worker threads)", () => {
  it("gives each text's single-threaded ids, in order, for many short and a few long texts", async () => {
    const texts = Array.from({ length: 300 }, (_, i) => adversarialText(1 + (i % 37) * 7, i));
    texts.push(adversarialText(50_000, 7), "", adversarialText(20_000, 8));
    for (const encoding of ["gpt2", "o200k_base"]) {
      const tok = getTokenizer(encoding);
      const got = await encodeBatch(texts, { encoding, workers: 2, chunkSize: 4_000, disallowedSpecial: [] });
      expect(got).toHaveLength(texts.length);
      got.forEach((ids, i) => expect(Array.from(ids), `text ${i}`).toEqual(tok.encode(texts[i] as string, { disallowedSpecial: [] })));
    }
    const pool = new ParallelEncoder({ encoding: "cl100k_base", workers: 2 });
    try {
      const [a, b] = await pool.encodeBatch(["hello world", "hello <|endoftext|>"], allowAll);
      expect([Array.from(a ?? []), Array.from(b ?? [])]).toEqual([[15339, 1917], [15339, 220, 100257]]);
      await expect(pool.encodeBatch(["fine", "x <|endoftext|>"])).rejects.toThrow(/special token "<\|endoftext\|>"/);
      await expect(pool.encodeBatch("text" as never)).rejects.toThrow(/`texts` must be an array of strings/);
    } finally {
      await pool.close();
    }
  });
});
