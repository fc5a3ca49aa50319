"""Generates test/fixtures/tiktoken-fuzz.json.gz: seeded random strings and the ids OpenAI's
tiktoken gives them in gpt2, r50k_base, p50k_base, cl100k_base and o200k_base.

The rank files are not downloadable here; the npm `tiktoken` package (node_modules/tiktoken/
encoders/*.json, js-tiktoken's compressed format) carries them. This script rebuilds each
`.tiktoken` file from it and checks its sha256 against the hash in tiktoken's own
`tiktoken_ext/openai_public.py` (gpt2's ranks are r50k_base's), then builds the encodings with
tiktoken's own constructors (`tiktoken_ext.openai_public.<name>()`, so its pattern strings and
special tokens are the ones of the installed version).

Usage (Python venv with the tiktoken wheel of the local mirror), from the repository root:
    python -m venv /tmp/venv && /tmp/venv/bin/pip install tiktoken==0.14.0
    /tmp/venv/bin/python packages/tokenizers/scripts/tiktoken-fuzz-fixture.py

Strings are encoded with `encode_ordinary` (special-token text is ordinary text). Lone
surrogates are included: tiktoken replaces each by U+FFFD.
"""
import gzip
import json
import os
import platform
import random
import sys
from importlib.metadata import version

import tiktoken

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "python"))
from tiktoken_offline import encoding  # noqa: E402  (rank files from node_modules, sha256-checked)

OUT = os.path.join(ROOT, "packages", "tokenizers", "test", "fixtures", "tiktoken-fuzz.json.gz")
NAMES = ["gpt2", "r50k_base", "p50k_base", "cl100k_base", "o200k_base"]
SEED = 20261201
COUNT = 3000


# Fragments by kind; strings are random concatenations of random fragments.
WHITESPACE = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\r\n\r\n", "\x85", "\xa0", "\ufeff", "\u2028", "\u2029",
              "\u3000", "\x0b", "\x0c", "\u1680", "\u2009", "\u202f", "\u205f", "\u200b", " \n ", "\t\n", " \x85 "]
DIGITS = ["0", "7", "12", "123", "1234", "12345678", "٣٤", "１２", "²", "Ⅻ", "½", "߁", "𝟘𝟙", "3.14", "1,000", "1e10"]
LETTERS = ["hello", "Hello", "HELLO", "world", "the", "I", "a", "é", "café", "naïve", "Straße", "ß", "İstanbul", "ı",
           "Ωμέγα", "Привет", "ǅ", "ǈ", "ʰ", "ー", "ſ", "K", "Å", "ﬁ", "ǰ", "ŉ", "x", "Z", "ABCdef", "camelCase", "snake_case"]
CONTRACTION_BASES = ["s", "t", "re", "ve", "m", "ll", "d", "x", "ſ", "K"]
EMOJI = ["😀", "👍", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈", "🇯🇵", "1\ufe0f\u20e3", "❤️", "🧑🏿\u200d💻", "😀😀"]
MARKS = ["e\u0301", "a\u0308\u0323", "\u0301", "\u0903", "क्षि", "नमस्ते", "ไทย", "\u20dd", "o\u0338", "\u0345"]
CJK = ["你好", "世界", "中文字符", "ひらがな", "カタカナ", "한국어", "𠀀", "𪚥", "々", "〇"]
RTL = ["مرحبا", "שלום", "\u200f", "\u200e", "العربية", "עברית", "ﷺ", "٫"]
# Letters new in Unicode 15.1 / 16.0 (letters for tiktoken 0.14) and 17.0 (not yet), and unassigned code points.
NEWEST = ["\u1c89", "\u1c8a", "\ua7cb", "\ua7dc", "\U00010d4a", "\U00016100", "\U0001e5d0", "\U0002ebf0", "\U00031350",
          "\u088f", "\U00016ea0", "\U00011db0", "\U000323b0", "\U0001e6c0", "\u0378", "\U000e0001", "\U000f0000", "\U0010fffd"]
PUNCT = [".", ",", "!", "?", ";", ":", "-", "_", "/", "\\", "(", ")", "[", "]", "{", "}", "<", ">", "@", "#", "$", "%",
         "^", "&", "*", "+", "=", "~", "`", "|", "\"", "'", "…", "—", "«", "»", "€", "::", "->", "//", "<|endoftext|>", "<|fim_prefix|>"]
SURROGATES = ["\ud800", "\udc00", "\udbff"]


def random_code_point(rng: random.Random) -> str:
    plane = rng.choice([0, 0, 0, 1, 1, 2, 3, 14, 15, 16])
    while True:
        c = plane * 0x10000 + rng.randrange(0x10000)
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


def contraction(rng: random.Random) -> str:
    base = rng.choice(CONTRACTION_BASES)
    cased = "".join(ch.upper() if rng.random() < 0.5 else ch for ch in base)
    return rng.choice(["'", "'", "’"]) + cased


def fragment(rng: random.Random) -> str:
    kind = rng.choices(
        ["ws", "digits", "letters", "contraction", "emoji", "marks", "cjk", "rtl", "newest", "punct", "random", "surrogate", "long"],
        weights=[14, 8, 14, 10, 5, 5, 5, 4, 6, 10, 6, 0.3, 0.5],
    )[0]
    if kind == "ws":
        return "".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 3)))
    if kind == "digits":
        return rng.choice(DIGITS)
    if kind == "letters":
        return rng.choice(LETTERS)
    if kind == "contraction":
        return contraction(rng)
    if kind == "emoji":
        return rng.choice(EMOJI)
    if kind == "marks":
        return rng.choice(MARKS)
    if kind == "cjk":
        return rng.choice(CJK)
    if kind == "rtl":
        return rng.choice(RTL)
    if kind == "newest":
        return rng.choice(NEWEST)
    if kind == "punct":
        return rng.choice(PUNCT)
    if kind == "random":
        return "".join(random_code_point(rng) for _ in range(rng.randint(1, 3)))
    if kind == "surrogate":
        return rng.choice(SURROGATES)
    return rng.choice(["a", "0", " ", "\n", "é", "'s", "ab", "x "]) * rng.randint(50, 300)


def main() -> None:
    rng = random.Random(SEED)
    strings = ["".join(fragment(rng) for _ in range(rng.randint(1, 12))) for _ in range(COUNT)]
    ids: dict[str, list[list[int]]] = {}
    for name in NAMES:
        enc = encoding(name)
        out = []
        for s in strings:
            try:
                out.append(enc.encode_ordinary(s))
            except UnicodeEncodeError:  # lone surrogates: what tiktoken's `encode` does
                out.append(enc.encode_ordinary(s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")))
        ids[name] = out
    fixture = {
        "generator": "packages/tokenizers/scripts/tiktoken-fuzz-fixture.py",
        "tiktoken": version("tiktoken"),
        "python": platform.python_version(),
        "seed": SEED,
        "patterns": {name: encoding(name)._pat_str for name in NAMES},
        "strings": strings,
        "ids": ids,
    }
    raw = json.dumps(fixture, ensure_ascii=True, separators=(",", ":")).encode()
    tmp = OUT + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gzip.compress(raw, 9, mtime=0))
    os.replace(tmp, OUT)
    print(f"{len(strings)} strings, {len(raw):,} bytes of JSON, {os.path.getsize(OUT):,} gzipped -> {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
