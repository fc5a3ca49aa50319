"""Row 6 baseline: greedy generation with transformers' GPT2LMHeadModel on torch (CPU).

The gpt2 (124M) shape with random weights (GPT2Config() defaults, torch.manual_seed(0)); prompt
of --prompt ids, --new new tokens, greedy, batch 1, with and without transformers' KV cache
(use_cache). Threads from --threads (torch.set_num_threads) and the environment the harness sets.
With --save DIR it first writes the model there with save_pretrained (the file tfgpt's row loads,
so both generate from the same weights) and reports the ids it generated.
Prints one `BENCH_RESULT <json>` line, like the Node rows.

usage: python bench/generation_hf.py --threads 2 --prompt 32 --new 128 --reps 3 [--save bench/out/gpt2-random]
"""
import argparse
import json
import os
import resource
import sys
import time

try:
    import torch
    import transformers
    from transformers import GPT2Config, GPT2LMHeadModel
except Exception as err:  # the harness reports the row as skipped with this reason
    print("BENCH_RESULT " + json.dumps({"skipped": f"torch/transformers not importable: {err}"}))
    sys.exit(0)

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=1)
p.add_argument("--prompt", type=int, default=32)
p.add_argument("--new", type=int, default=128)
p.add_argument("--reps", type=int, default=3)
p.add_argument("--nocache-reps", type=int, default=1)
p.add_argument("--save", default=None)
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config()).eval()
if a.save:
    model.save_pretrained(a.save)
prompt = torch.tensor([[(i * 997) % 50257 for i in range(a.prompt)]])
mask = torch.ones_like(prompt)


def run(use_cache):
    t0 = time.perf_counter()
    with torch.no_grad():
        out = model.generate(prompt, attention_mask=mask, max_new_tokens=a.new, min_new_tokens=a.new, do_sample=False,
                             use_cache=use_cache, pad_token_id=50256)
    return time.perf_counter() - t0, out[0].tolist()


run(True)  # warm-up
cached = []
ids = None
for _ in range(a.reps):
    s, ids = run(True)
    cached.append(a.new / s)
nocache = []
for _ in range(a.nocache_reps):
    s, _ = run(False)
    nocache.append(a.new / s)

def measurement(samples, unit):
    if not samples:
        return {"error": "not run (--nocache-reps 0)"}
    s = sorted(samples)
    n = len(s)
    median = s[(n - 1) // 2] if n % 2 == 1 else (s[n // 2 - 1] + s[n // 2]) / 2
    return {"unit": unit, "median": median, "min": s[0], "max": s[-1], "n": n, "samples": samples}


print("BENCH_RESULT " + json.dumps({
    "impl": "transformers",
    "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "python": sys.version.split()[0]},
    "threads": a.threads,
    "torchThreads": torch.get_num_threads(),
    "measurements": {
        "cachedTokensPerSec": measurement(cached, "tokens/s"),
        "uncachedTokensPerSec": measurement(nocache, "tokens/s"),
    },
    "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "ids": ids,
    "saved": os.path.abspath(a.save) if a.save else None,
}))
