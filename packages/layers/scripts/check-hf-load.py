#!/usr/bin/env python3
"""Loads a directory written by tfgpt's savePretrained with transformers and prints its logits.

    python packages/layers/scripts/check-hf-load.py DIR [REFERENCE_DIR]

Prints the largest absolute difference between the logits of GPT2LMHeadModel.from_pretrained(DIR)
and those of REFERENCE_DIR (default: the committed fixture test/fixtures/hf-gpt2-tiny) on the
fixture's greedy ids, or with REFERENCE_DIR "-" the first logits of ids [1, 2, 3, 50, 100, 383].
Used by hand (the tests need no Python); see the layers README.
"""
import json
import os
import sys

import torch
from transformers import GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "test", "fixtures", "hf-gpt2-tiny")
target = sys.argv[1]
reference = sys.argv[2] if len(sys.argv) > 2 else FIXTURE

model = GPT2LMHeadModel.from_pretrained(target).eval()
with torch.no_grad():
    if reference == "-":
        print(json.dumps({"first_logits": model(torch.tensor([[1, 2, 3, 50, 100, 383]])).logits[0].flatten()[:5].tolist()}))
    else:
        ids = torch.tensor([json.load(open(os.path.join(FIXTURE, "expected.json")))["greedy_ids"]])
        ref = GPT2LMHeadModel.from_pretrained(reference).eval()
        a, b = model(ids).logits, ref(ids).logits
        print(json.dumps({"target": target, "reference": reference, "shape": list(a.shape), "max_abs_diff": (a - b).abs().max().item()}))
