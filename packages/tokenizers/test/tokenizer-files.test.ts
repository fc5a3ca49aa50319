import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { BpeModel } from "../src/bpe-model.js";
import { trainBpe } from "../src/bpe-trainer.js";
import { getTokenizer } from "../src/index.js";
import { loadTokenizer, readTextSync, saveTokenizer } from "../src/node.js";
import { bpeModelOf, createBpeTokenizer } from "../src/bpe-factory.js";
import { fromHuggingFaceJson, toHuggingFaceJson } from "../src/hf-tokenizer-json.js";
import { formatRankFile, formatRankFileMeta, parseRankFile, parseRankFileMeta } from "../src/rank-file.js";
import type { BpeTokenizer } from "../src/bpe-tokenizer.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const dataDir = process.env.TFGPT_DATA_DIR ?? path.resolve(repoRoot, "../shared/data");
const verdict = readTextSync(path.join(dataDir, "the-verdict.txt"));
// Training text and test text differ, so the test text also exercises unseen pieces.
const corpus = readTextSync(path.join(dataDir, "pg84.txt")).slice(0, 60_000);
const model = trainBpe(corpus, { vocabSize: 600, specialTokens: ["<|endoftext|>", "<|pad|>"] });
const trained = createBpeTokenizer(model);
const sample = `${verdict}\n<|endoftext|> naïve café 東京 \u{1F600} it's 12345 \t\n\n  x<|pad|>`;
const encodeOptions = { allowedSpecial: "all" } as const;
const expected = trained.encode(sample, encodeOptions);

const tmp = mkdtempSync(path.join(tmpdir(), "tfgpt-tok-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectSameModel(actual: BpeModel, wanted: BpeModel): void {
  expect(actual.pattern).toBe(wanted.pattern);
  expect(actual.specialTokens).toEqual(wanted.specialTokens);
  expect([...actual.ranks].sort((a, b) => a[1] - b[1])).toEqual([...wanted.ranks].sort((a, b) => a[1] - b[1]));
}

/**
 * The Hugging Face `tokenizers` BPE algorithm (merge-priority, `ignore_merges`) over a parsed
 * tokenizer.json, to check that the exported merges make that library give our ids.
 */
function hfEncode(json: string, text: string, pattern: string): number[] {
  const hf = JSON.parse(json) as { model: { vocab: Record<string, number>; merges: string[] } };
  const vocab = new Map(Object.entries(hf.model.vocab));
  const mergeRank = new Map(hf.model.merges.map((merge, i) => [merge, i]));
  const byteToChar = new Map<number, string>();
  for (const [token, id] of vocab) {
    const bytes = [...bpeModelOf(trained).ranks].find(([, rank]) => rank === id);
    if (bytes !== undefined && bytes[0].length === 1) byteToChar.set(bytes[0].charCodeAt(0), token);
  }
  const ids: number[] = [];
  for (const [piece] of text.matchAll(new RegExp(pattern, "gu"))) {
    const symbols = [...new TextEncoder().encode(piece)].map((b) => byteToChar.get(b) as string);
    const whole = vocab.get(symbols.join(""));
    if (whole !== undefined) {
      ids.push(whole);
      continue;
    }
    for (;;) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = mergeRank.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < best) [best, at] = [rank, i];
      }
      if (at === -1) break;
      symbols.splice(at, 2, `${symbols[at]}${symbols[at + 1]}`);
    }
    for (const symbol of symbols) ids.push(vocab.get(symbol) as number);
  }
  return ids;
}

describe("tiktoken rank file + sidecar", () => {
  it("writes base64 lines in rank order and reads them back exactly", () => {
    expect(formatRankFile(new Map([["ab", 1], ["a", 0]]))).toBe("YQ== 0\nYWI= 1\n");
    const text = formatRankFile(model.ranks);
    expect(text.split("\n")[256]).toBe(`${btoa([...model.ranks].find(([, r]) => r === 256)?.[0] ?? "")} 256`);
    const back = { ranks: parseRankFile(text), ...parseRankFileMeta(formatRankFileMeta(model)) };
    expectSameModel(back, model);
    expect(createBpeTokenizer(back).encode(sample, encodeOptions)).toEqual(expected);
  });

  it("round-trips gpt2's 50,257 tokens", () => {
    const gpt2 = getTokenizer("gpt2") as BpeTokenizer;
    const back = parseRankFile(formatRankFile(bpeModelOf(gpt2).ranks));
    expect(back.size).toBe(50_256);
    const tok = createBpeTokenizer({ ranks: back, pattern: gpt2.core.pattern, specialTokens: { "<|endoftext|>": 50_256 } });
    expect(tok.encode(verdict).length).toBe(5_145);
  });

  it("names the malformed line or sidecar field", () => {
    expect(() => parseRankFile("YQ== 0\nnot-base64! 1\n")).toThrow(/rank file line 2 must be "<base64 token> <rank>", received "not-base64! 1"/);
    expect(() => parseRankFile("YQ== 0\nYQ== 1\n")).toThrow(/rank file line 2 repeats a token/);
    expect(() => parseRankFile("YQ== 0\nYg== 0\n")).toThrow(/rank file line 2 repeats rank 0/);
    expect(() => parseRankFileMeta('{"format":"tfgpt-bpe","version":2,"pattern":"x","specialTokens":{}}')).toThrow(/`version` must be 1, received 2/);
    expect(() => parseRankFileMeta("{")).toThrow(/the rank-file sidecar is not JSON/);
  });
});

describe("Hugging Face tokenizer.json", () => {
  const json = toHuggingFaceJson(model);

  it("exports byte-level BPE that reads back exactly", () => {
    const hf = JSON.parse(json);
    expect(hf.model.type).toBe("BPE");
    expect(hf.pre_tokenizer).toMatchObject({ type: "ByteLevel", add_prefix_space: false, use_regex: true });
    expect(hf.added_tokens.map((t: { content: string; id: number }) => [t.content, t.id])).toEqual([["<|endoftext|>", 598], ["<|pad|>", 599]]);
    expect(hf.model.vocab["Ġ"]).toBe(32); // GPT-2's bytes-to-unicode: space -> U+0120
    expect(hf.model.vocab["Ċ"]).toBe(10); // "\n" -> U+010A
    expect(hf.model.merges.length).toBeGreaterThanOrEqual(598 - 256);
    const back = fromHuggingFaceJson(json);
    expectSameModel(back, model);
    expect(createBpeTokenizer(back).encode(sample, encodeOptions)).toEqual(expected);
    expect(fromHuggingFaceJson(hf).ranks.size).toBe(598);
  });

  it("lists merges with which the tokenizers library's algorithm gives the same ids", () => {
    expect(hfEncode(json, verdict, model.pattern)).toEqual(trained.encode(verdict));
  });

  it("writes a custom pattern as Split + ByteLevel and reads it back", () => {
    const custom = trainBpe(corpus.slice(0, 20_000), { vocabSize: 300, pattern: "\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+|\\s+" });
    const hf = JSON.parse(toHuggingFaceJson(custom));
    expect(hf.pre_tokenizer.pretokenizers[0]).toEqual({ type: "Split", pattern: { Regex: custom.pattern }, behavior: "Isolated", invert: false });
    expect(hf.pre_tokenizer.pretokenizers[1]).toMatchObject({ type: "ByteLevel", use_regex: false });
    expectSameModel(fromHuggingFaceJson(hf), custom);
  });

  it("round-trips gpt2 (ids are ranks, GPT-2's own vocab spelling)", () => {
    const gpt2 = getTokenizer("gpt2") as BpeTokenizer;
    const hf = JSON.parse(toHuggingFaceJson(bpeModelOf(gpt2)));
    expect(hf.model.vocab["Ġthe"]).toBe(262);
    expect(hf.model.vocab["Hello"]).toBe(15496);
    const tok = createBpeTokenizer(fromHuggingFaceJson(hf));
    expect(tok.encode(verdict)).toEqual(gpt2.encode(verdict));
  });

  it("rejects what it cannot encode rank-based, naming the field", () => {
    const hf = JSON.parse(json);
    expect(() => fromHuggingFaceJson({ ...hf, model: { ...hf.model, type: "WordPiece" } })).toThrow(/`model.type` must be "BPE"/);
    expect(() => fromHuggingFaceJson({ ...hf, pre_tokenizer: { type: "Whitespace" } })).toThrow(/`pre_tokenizer` must be ByteLevel.*received "Whitespace"/);
    expect(() => fromHuggingFaceJson({ ...hf, pre_tokenizer: { type: "ByteLevel", add_prefix_space: true } })).toThrow(/add_prefix_space: true/);
    expect(() => fromHuggingFaceJson({ ...hf, normalizer: { type: "NFC" } })).toThrow(/`normalizer` must be null/);
    const reversed = [...hf.model.merges].reverse();
    expect(() => fromHuggingFaceJson({ ...hf, model: { ...hf.model, merges: reversed } })).toThrow(/ids must follow the merge order/);
    expect(() => fromHuggingFaceJson({ ...hf, model: { ...hf.model, merges: ["x y"] } })).toThrow(/`model.merges\[0\]` must join two vocab tokens/);
    expect(() => fromHuggingFaceJson({ ...hf, model: { ...hf.model, vocab: { "\u4e00": 0 } } })).toThrow(/`model.vocab` must hold byte-level tokens/);
    expect(() => fromHuggingFaceJson("{")).toThrow(/`json` is not valid JSON/);
  });
});

describe('saveTokenizer / loadTokenizer / getTokenizer("bpe")', () => {
  it("saves a rank file with its sidecar, and loads it with a spec that rebuilds it", () => {
    const file = path.join(tmp, "tokens.tiktoken");
    expect(saveTokenizer(file, model)).toEqual([file, `${file}.meta.json`]);
    expect(readFileSync(file, "utf8")).toBe(formatRankFile(model.ranks));
    const loaded = loadTokenizer(file);
    expect(loaded.spec).toEqual({ name: "bpe", options: { path: file } });
    expect(loaded.encode(sample, encodeOptions)).toEqual(expected);
    const rebuilt = getTokenizer(loaded.spec.name, loaded.spec.options);
    expect(rebuilt.encode(sample, encodeOptions)).toEqual(expected);
    expect(rebuilt.vocabSize).toBe(600);
  });

  it("saves a tokenizer.json for a .json path, and loads it", () => {
    const file = path.join(tmp, "tokenizer.json");
    saveTokenizer(file, trained);
    expect(existsSync(`${file}.meta.json`)).toBe(false);
    expect(getTokenizer("bpe", { path: file }).encode(sample, encodeOptions)).toEqual(expected);
  });

  it("builds from ranks or json in memory, with a JSON-serialisable spec", () => {
    for (const tok of [trained, getTokenizer("bpe", { json: toHuggingFaceJson(model) })]) {
      const spec = JSON.parse(JSON.stringify(tok.spec));
      expect(spec.name).toBe("bpe");
      expect(getTokenizer(spec.name, spec.options).encode(sample, encodeOptions)).toEqual(expected);
    }
    const fromMap = getTokenizer("bpe", { ranks: model.ranks as Map<string, number>, specialTokens: model.specialTokens });
    expect(fromMap.encode(sample, encodeOptions)).toEqual(expected);
  });

  it("names the path or option at fault", () => {
    expect(() => loadTokenizer(path.join(tmp, "missing.tiktoken"))).toThrow(/cannot read the tokenizer file `path` ".*missing.tiktoken": no such file/);
    const lonely = path.join(tmp, "lonely.tiktoken");
    saveTokenizer(lonely, model);
    rmSync(`${lonely}.meta.json`);
    expect(() => loadTokenizer(lonely)).toThrow(
      /cannot read the sidecar ".*lonely.tiktoken.meta.json" \(pattern and special tokens\) of the rank file `path` ".*lonely.tiktoken": no such file/,
    );
    expect(() => getTokenizer("bpe", { ranks: "YQ== 0", json: "{}" })).toThrow(/must be \{path\}, \{ranks, pattern\?, specialTokens\?\} or \{json\}/);
    expect(() => getTokenizer("bpe")).toThrow(/must be \{path\}/);
  });
});
