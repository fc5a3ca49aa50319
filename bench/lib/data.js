// Benchmark inputs: the shared corpora (never copied into the repo) and a seeded synthetic mix.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32, pick, randInt } from "./rng.js";

/** The repository root, computed from this file's location (bench/lib/ -> ../..). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The corpus folder: $TFGPT_DATA_DIR, else ../shared/data next to the repository. */
export const dataDir = process.env.TFGPT_DATA_DIR ?? path.resolve(repoRoot, "../shared/data");

/**
 * Reads a corpus the way Python's `open(path, encoding="utf-8").read()` does: the BOM is kept as
 * U+FEFF and CRLF becomes LF (the golden values in the data README assume this).
 */
export function readCorpus(name) {
  return readFileSync(path.join(dataDir, name), "utf8").replace(/\r\n/g, "\n");
}

/** `text` repeated until it is at least `bytes` UTF-8 bytes long (whole copies only). */
export function repeatToBytes(text, bytes) {
  const one = Buffer.byteLength(text, "utf8");
  return text.repeat(Math.max(1, Math.ceil(bytes / one)));
}

/** UTF-8 size of a string in bytes. */
export function utf8Bytes(text) {
  return Buffer.byteLength(text, "utf8");
}

const WORDS = (
  "the of and to in is that it was for on are with as be at this have from or one had by word but " +
  "not what all were we when your can said there use an each which she do how their if will up " +
  "other about out many then them these so some her would make like him into time has look two " +
  "more write go see number no way could people my than first water been call who oil its now " +
  "find long down day did get come made may part don't it's we'll they're I'm you've"
).split(" ");
const IDENTS = ["x", "i", "idx", "value", "tokenIds", "max_length", "Stride", "batch_size", "fooBar", "__init__", "self", "_tmp1"];
const KEYWORDS = ["const", "let", "function", "return", "if", "else", "for", "while", "def", "class", "import", "from", "async", "await"];
const OPS = [" = ", " + ", " - ", " * ", " / ", " => ", " === ", " != ", " <= ", " += ", "++", "->", "::", " && ", " || "];
const LATIN = "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœŒŁłŚśŽžĞğİışŞ";
const GREEK_CYR = "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΩабвгдеёжзийклмнопрстуфхцчшщъыьэюяЖЩЯ";
const EMOJI = ["😀", "😂", "🤖", "🚀", "🎉", "👍🏽", "❤️", "🇫🇷", "👩‍💻", "👨‍👩‍👧‍👦", "🧪", "🔥", "✅", "🙈"];
const HIRAGANA_KATAKANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのアイウエオカキクケコサシスセソ";

function word(rand) {
  return pick(rand, WORDS);
}

function cjkRun(rand) {
  let s = "";
  const n = randInt(rand, 2, 30);
  for (let i = 0; i < n; i++) {
    s += rand() < 0.75 ? String.fromCodePoint(randInt(rand, 0x4e00, 0x9fff)) : pick(rand, [...HIRAGANA_KATAKANA]);
  }
  return s + pick(rand, ["。", "、", "！", "？", "", " "]);
}

function codeLine(rand) {
  const indent = " ".repeat(pick(rand, [0, 2, 4, 8, 12]));
  const kind = randInt(rand, 0, 4);
  if (kind === 0) return `${indent}${pick(rand, KEYWORDS)} ${pick(rand, IDENTS)}${pick(rand, OPS)}${pick(rand, IDENTS)}(${randInt(rand, 0, 1000)});`;
  if (kind === 1) return `${indent}${pick(rand, IDENTS)}[${pick(rand, IDENTS)}]${pick(rand, OPS)}{ "${pick(rand, IDENTS)}": [${randInt(rand, 0, 99)}, ${rand().toFixed(4)}] }`;
  if (kind === 2) return `${indent}// ${word(rand)} ${word(rand)} ${word(rand)} TODO(${pick(rand, IDENTS)}): ${word(rand)}`;
  return `${indent}if (${pick(rand, IDENTS)}${pick(rand, OPS)}0x${randInt(rand, 0, 0xffffff).toString(16)}) {\n${indent}\t${pick(rand, IDENTS)}();\n${indent}}`;
}

function numbers(rand) {
  const parts = [];
  const n = randInt(rand, 1, 8);
  for (let i = 0; i < n; i++) {
    const k = randInt(rand, 0, 5);
    if (k === 0) parts.push(String(randInt(rand, 0, 1e9)));
    else if (k === 1) parts.push((rand() * 1e4 - 5e3).toFixed(randInt(rand, 1, 6)));
    else if (k === 2) parts.push(`${randInt(rand, 1900, 2100)}-${String(randInt(rand, 1, 13)).padStart(2, "0")}-${String(randInt(rand, 1, 29)).padStart(2, "0")}`);
    else if (k === 3) parts.push(`${rand().toExponential(3)}`);
    else parts.push(`+${randInt(rand, 1, 99)} (${randInt(rand, 100, 999)}) ${randInt(rand, 1000000, 9999999)}`);
  }
  return parts.join(pick(rand, [", ", " ", "\t", "; "]));
}

function unicodeWords(rand) {
  let s = "";
  const n = randInt(rand, 1, 6);
  for (let i = 0; i < n; i++) {
    const alphabet = rand() < 0.5 ? LATIN : GREEK_CYR;
    const len = randInt(rand, 1, 10);
    let w = "";
    for (let j = 0; j < len; j++) w += rand() < 0.4 ? pick(rand, [...alphabet]) : String.fromCharCode(randInt(rand, 97, 123));
    s += (i ? " " : "") + w;
  }
  return s;
}

function prose(rand) {
  const n = randInt(rand, 4, 20);
  const ws = [];
  for (let i = 0; i < n; i++) ws.push(word(rand));
  const s = ws.join(" ");
  return s[0].toUpperCase() + s.slice(1) + pick(rand, [".", "!", "?", "...", ":", ";"]);
}

/**
 * A seeded mix of text unlike our corpora: code, numbers, accented/Greek/Cyrillic words, emoji
 * (ZWJ sequences, skin tones, flags), CJK, whitespace runs and contractions; at least `bytes`
 * UTF-8 bytes. The same seed gives the same string on every machine.
 */
export function textMix(bytes, seed = 7) {
  const rand = mulberry32(seed);
  const parts = [];
  let size = 0;
  const gens = [prose, codeLine, numbers, unicodeWords, cjkRun, () => pick(rand, EMOJI).repeat(randInt(rand, 1, 4)), () => " ".repeat(randInt(rand, 2, 40)) + pick(rand, ["\n", "\n\n", "\t", ""])];
  while (size < bytes) {
    const g = pick(rand, gens);
    const piece = g(rand) + pick(rand, [" ", " ", "\n", " ", "\n\n"]);
    parts.push(piece);
    size += utf8Bytes(piece);
  }
  return parts.join("");
}
