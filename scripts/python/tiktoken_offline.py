"""OpenAI's tiktoken encodings without network, for the Python fixture and benchmark scripts.

tiktoken downloads its rank files on first use; here they come from the npm `tiktoken` package
the repository installs (node_modules/tiktoken/encoders/<name>.json, js-tiktoken's compressed
rank format). Each table is checked against the sha256 that tiktoken's own
`tiktoken_ext/openai_public.py` expects (gpt2's ranks must equal r50k_base's, as there), and the
encoding is built with tiktoken's own constructor (its pattern and special tokens).

Use (tiktoken 0.14.0):
    sys.path.insert(0, os.path.join(REPO_ROOT, "scripts", "python"))
    from tiktoken_offline import encoding
    enc = encoding("gpt2")

Used by packages/examples/test/fixtures/corpus/make_fixtures.py and
bench/prepare-corpus/python_prepare.py.
"""
import base64
import hashlib
import json
import os
from unittest import mock

import tiktoken
import tiktoken_ext.openai_public as openai_public

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ENCODERS = os.path.join(ROOT, "node_modules", "tiktoken", "encoders")


def ranks_of(name: str) -> dict[bytes, int]:
    """The mergeable ranks of encoding `name` from node_modules/tiktoken/encoders/<name>.json."""
    with open(os.path.join(ENCODERS, name + ".json")) as f:
        data = json.load(f)
    ranks: dict[bytes, int] = {}
    for line in data["bpe_ranks"].split("\n"):
        if not line:
            continue
        fields = line.split(" ")
        for i, token in enumerate(fields[2:]):
            ranks[base64.b64decode(token)] = int(fields[1]) + i
    return ranks


def tiktoken_file(ranks: dict[bytes, int]) -> bytes:
    """The `.tiktoken` file tiktoken would download for these ranks (what its sha256 is of)."""
    return "".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in sorted(ranks.items(), key=lambda x: x[1])).encode()


def encoding(name: str) -> tiktoken.Encoding:
    """tiktoken's encoding `name` (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base), offline."""
    ranks = ranks_of(name)

    def load_tiktoken_bpe(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        actual = hashlib.sha256(tiktoken_file(ranks)).hexdigest()
        assert actual == expected_hash, f"{name}: sha256 {actual} != {expected_hash}"
        return ranks

    def data_gym(*args, **kwargs) -> dict[bytes, int]:
        assert ranks == ranks_of("r50k_base"), "gpt2's ranks must equal r50k_base's"
        return ranks

    with mock.patch.object(openai_public, "load_tiktoken_bpe", load_tiktoken_bpe), mock.patch.object(
        openai_public, "data_gym_to_mergeable_bpe_ranks", data_gym
    ):
        spec = getattr(openai_public, name)()
    return tiktoken.Encoding(**spec)
