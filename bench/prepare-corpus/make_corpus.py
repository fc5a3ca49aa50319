"""Generates a synthetic parquet + JSONL corpus for the `tfgpt prepare` fan-out run (never in the repo).

Run: python make_corpus.py OUT_DIR TOTAL_MB [FILES] [MUTATE]   (pyarrow 25.0.1)

Documents are 1-40 random paragraphs of ../shared/data/pg84.txt and the-verdict.txt (so the text
is English prose with its real word statistics), each document a row. Half of the text goes to
FILES/2 parquet files (snappy, row groups of 2,000 rows, columns "id", "text", "url"), half to
FILES/2 JSONL files (every other one gzipped). Seeded: the same arguments give the same corpus.
MUTATE (default 0) replaces that fraction of the words with random lowercase strings, so the
text has a long tail of unseen words (a tokenizer's word cache helps less, as on web text).
"""
import gzip
import json
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out, total_mb = sys.argv[1], float(sys.argv[2])
files = int(sys.argv[3]) if len(sys.argv) > 3 else 8
mutate = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
here = os.path.dirname(os.path.abspath(__file__))
data = os.environ.get("TFGPT_DATA_DIR", os.path.join(here, "..", "..", "..", "shared", "data"))
paras = []
for name in ("pg84.txt", "the-verdict.txt"):
    with open(os.path.join(data, name), encoding="utf-8") as f:
        paras += [p.strip() for p in f.read().replace("\r\n", "\n").split("\n\n") if p.strip()]
rng = random.Random(21)
os.makedirs(out, exist_ok=True)
per_file = total_mb * 1e6 / files
doc_id = 0


def docs_of(budget):
    global doc_id
    size = 0
    while size < budget:
        text = "\n\n".join(rng.choice(paras) for _ in range(rng.randint(1, 40)))
        if mutate > 0:
            text = " ".join(
                "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10))) if rng.random() < mutate else w
                for w in text.split(" ")
            )
        size += len(text.encode("utf-8"))
        doc_id += 1
        yield doc_id, text


for k in range(files):
    if k % 2 == 0:
        ids, texts = [], []
        for i, t in docs_of(per_file):
            ids.append(i)
            texts.append(t)
        table = pa.table({"id": pa.array(ids, pa.int64()), "text": pa.array(texts, pa.string()),
                          "url": pa.array([f"https://example.com/{i}" for i in ids], pa.string())})
        pq.write_table(table, os.path.join(out, f"part-{k:03d}.parquet"), row_group_size=2000, compression="snappy")
    else:
        name = os.path.join(out, f"part-{k:03d}.jsonl" + (".gz" if k % 4 == 3 else ""))
        opener = gzip.open if name.endswith(".gz") else open
        with opener(name, "wt", encoding="utf-8") as f:
            for i, t in docs_of(per_file):
                f.write(json.dumps({"id": i, "text": t}) + "\n")
print(f"{out}: {files} files, {doc_id} documents, about {total_mb} MB of text")
