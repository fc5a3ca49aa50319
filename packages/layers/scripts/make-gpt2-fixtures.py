#!/usr/bin/env python3
"""Writes the Hugging Face GPT-2 fixtures of @tfgpt/layers' pretrained tests (no network needed).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch==2.13.0 transformers safetensors
    /tmp/venv/bin/python packages/layers/scripts/make-gpt2-fixtures.py [../shared/data/the-verdict.txt]

Output, test/fixtures/hf-gpt2-tiny/ (~0.4 MB):
  config.json, model.safetensors, generation_config.json   GPT2LMHeadModel.save_pretrained of a
        random GPT-2 (vocab 384, context 64, width 32, 4 heads, 2 layers, init std 0.6 so that
        greedy picks have clear margins); every weight random,
        biases and LayerNorms included, so that each row of the name table is exercised.
  tokenizer.json, vocab.json, merges.txt    a byte-level BPE (vocab 384) trained by `tokenizers`
        on "The Verdict", <|endoftext|> = id 0.
  expected.json    versions, the prompt, its ids, HF's greedy `generate` ids and text.
  expected.safetensors    `logits` [T, 384]: HF's logits of prompt + greedy continuation;
        `f16`, `bf16`: wpe in those dtypes; `f16_as_f32`, `bf16_as_f32`: the same values upcast by torch.
"""
import json
import os
import sys

import safetensors
import safetensors.torch
import tokenizers
import torch
import transformers
from tokenizers import ByteLevelBPETokenizer
from transformers import GPT2Config, GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "hf-gpt2-tiny")
TEXT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "the-verdict.txt")
PROMPT = "I HAD always thought Jack Gisburn"
VOCAB = 384
NEW_TOKENS = 24

torch.manual_seed(int(os.environ.get("SEED", "1")))
os.makedirs(OUT, exist_ok=True)

tok = ByteLevelBPETokenizer(add_prefix_space=False)
tok.train([TEXT], vocab_size=VOCAB, min_frequency=2, special_tokens=["<|endoftext|>"], show_progress=False)
assert tok.get_vocab_size() == VOCAB, tok.get_vocab_size()
eot = tok.token_to_id("<|endoftext|>")
tok.save(os.path.join(OUT, "tokenizer.json"))
tok.save_model(OUT)  # vocab.json + merges.txt

config = GPT2Config(
    vocab_size=VOCAB,
    n_positions=64,
    n_embd=32,
    n_layer=2,
    n_head=4,
    bos_token_id=eot,
    eos_token_id=eot,
    initializer_range=float(os.environ.get("INIT", "0.6")),
)
model = GPT2LMHeadModel(config).eval()
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith("bias") or ".ln_" in name:
            p.copy_(torch.randn_like(p) * 0.1 + (1.0 if (".ln_" in name and name.endswith("weight")) else 0.0))
model.save_pretrained(OUT)

prompt_ids = tok.encode(PROMPT).ids
with torch.no_grad():
    out = model.generate(
        torch.tensor([prompt_ids]),
        attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
        max_new_tokens=NEW_TOKENS,
        do_sample=False,
        eos_token_id=eot,
        pad_token_id=eot,
    )[0].tolist()
    logits = model(torch.tensor([out])).logits[0].contiguous()

wpe = model.transformer.wpe.weight.detach()
safetensors.torch.save_file(
    {
        "logits": logits,
        "f16": wpe.half().contiguous(),
        "bf16": wpe.bfloat16().contiguous(),
        "f16_as_f32": wpe.half().float().contiguous(),
        "bf16_as_f32": wpe.bfloat16().float().contiguous(),
    },
    os.path.join(OUT, "expected.safetensors"),
)
expected = {
    "made_by": "packages/layers/scripts/make-gpt2-fixtures.py",
    "versions": {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
        "tokenizers": tokenizers.__version__,
    },
    "prompt": PROMPT,
    "prompt_ids": prompt_ids,
    "eos_token_id": eot,
    "max_new_tokens": NEW_TOKENS,
    "greedy_ids": out,
    "greedy_text": tok.decode(out[len(prompt_ids):]),
}
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=2)
    f.write("\n")
print(json.dumps(expected, indent=2))
print("files:", {n: os.path.getsize(os.path.join(OUT, n)) for n in sorted(os.listdir(OUT))})
