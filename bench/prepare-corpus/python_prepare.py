"""The Python baseline of `tfgpt prepare`: llm.c's dev/data/fineweb.py pipeline on local files.

Run: python python_prepare.py INPUT_DIR OUT_DIR [NUM_PROC]   (tiktoken 0.14.0, pyarrow 25.0.1, numpy 2.4.6)

Reads the corpus of make_corpus.py (parquet with pyarrow one row group at a time, JSONL/JSONL.gz
line by line), tokenizes every document as fineweb.py does ([<|endoftext|>] +
enc.encode_ordinary(text), uint16) in a multiprocessing.Pool(NUM_PROC) (imap, chunksize 16, as
fineweb.py), writes llm.c shards of 100M tokens with fineweb.py's header, and prints
MB of text per second and the token count.
"""
import glob
import gzip
import json
import multiprocessing as mp
import os
import sys
import time

import numpy as np
import pyarrow.parquet as pq

# tiktoken's GPT-2 without network (scripts/python/tiktoken_offline.py).
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "python"))
from tiktoken_offline import encoding  # noqa: E402

enc = encoding("gpt2")
eot = enc._special_tokens["<|endoftext|>"]


def tokenize(text):
    tokens = [eot]
    tokens.extend(enc.encode_ordinary(text))
    return np.array(tokens, dtype=np.uint16), len(text.encode("utf-8"))


def documents(inp):
    for path in sorted(glob.glob(os.path.join(inp, "*"))):
        if path.endswith(".parquet"):
            pf = pq.ParquetFile(path)
            for g in range(pf.num_row_groups):
                for t in pf.read_row_group(g, columns=["text"]).column("text").to_pylist():
                    yield t
        elif path.endswith(".jsonl") or path.endswith(".jsonl.gz"):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                for line in f:
                    yield json.loads(line)["text"]


def write_datafile(filename, toks):
    header = np.zeros(256, dtype=np.int32)
    header[0], header[1], header[2] = 20240520, 1, len(toks)
    with open(filename, "wb") as f:
        f.write(header.tobytes())
        f.write(toks.tobytes())


if __name__ == "__main__":
    inp, out = sys.argv[1], sys.argv[2]
    nprocs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    os.makedirs(out, exist_ok=True)
    shard_size = 100_000_000
    start = time.time()
    total_tokens = total_bytes = 0
    buf = np.empty(shard_size, dtype=np.uint16)
    count = shard = 0
    with mp.Pool(nprocs) as pool:
        for toks, nbytes in pool.imap(tokenize, documents(inp), chunksize=16):
            total_tokens += len(toks)
            total_bytes += nbytes
            while len(toks) > 0:
                take = min(shard_size - count, len(toks))
                buf[count:count + take] = toks[:take]
                count += take
                toks = toks[take:]
                if count == shard_size:
                    write_datafile(os.path.join(out, f"py_{shard:06d}.bin"), buf)
                    shard += 1
                    count = 0
    if count:
        write_datafile(os.path.join(out, f"py_{shard:06d}.bin"), buf[:count])
    secs = time.time() - start
    print(f"python tiktoken+pyarrow, {nprocs} procs: {total_bytes / 1e6:.1f} MB text, {total_tokens} tokens, {secs:.1f} s, {total_bytes / 1e6 / secs:.2f} MB/s")
