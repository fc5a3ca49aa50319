"""Row 5: our GPT's shapes in PyTorch on the same CPU, the reference users compare tokens/s with.

--preset tiny (default): createGPT("tiny"): vocab 50,257, context 64, width 64, 2 layers,
2 heads, no dropout, batch 8. --preset gpt2-small: createGPT("gpt2-small") (GPT-2 124M without
the qkv bias, dropout 0.1, position table 1,024) trained at --context 256 x --batch 4.
Both: pre-LayerNorm blocks with a tanh-GELU MLP, tied head, AdamW (weight decay 0.1). Threads
come from the environment the harness sets (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS) and
--threads (torch.set_num_threads). Prints one `BENCH_RESULT <json>` line, like the Node rows.

usage: python bench/torch_tiny.py --threads 1 --steps 20 --warmup 3 [--preset gpt2-small --context 256 --batch 4]
"""
import argparse
import json
import math
import os
import re
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as err:  # the harness reports the row as skipped with this reason
    print("BENCH_RESULT " + json.dumps({"skipped": f"PyTorch not importable: {err}"}))
    sys.exit(0)


class Block(nn.Module):
    def __init__(self, c, n_heads, dropout):
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.drop = nn.Dropout(dropout)
        self.ln1 = nn.LayerNorm(c)
        self.qkv = nn.Linear(c, 3 * c, bias=False)  # qkvBias false, as the tiny preset
        self.proj = nn.Linear(c, c)
        self.ln2 = nn.LayerNorm(c)
        self.fc = nn.Linear(c, 4 * c)
        self.fc2 = nn.Linear(4 * c, c)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_heads, c // self.n_heads).transpose(1, 2) for z in (q, k, v))
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p) if hasattr(F, "scaled_dot_product_attention") else self._attend(q, k, v, t)
        x = x + self.drop(self.proj(y.transpose(1, 2).contiguous().view(b, t, c)))
        return x + self.drop(self.fc2(F.gelu(self.fc(self.ln2(x)), approximate="tanh")))

    def _attend(self, q, k, v, t):
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
        return self.drop(att.masked_fill(~mask, float("-inf")).softmax(dim=-1)) @ v


class TinyGPT(nn.Module):
    def __init__(self, vocab, context, c, n_layers, n_heads, dropout):
        super().__init__()
        self.wte = nn.Embedding(vocab, c)
        self.wpe = nn.Embedding(context, c)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(c, n_heads, dropout) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(c)
        self.head = nn.Linear(c, vocab, bias=False)
        self.head.weight = self.wte.weight  # tied, as in GPT-2 and createGPT
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * n_layers) if name.endswith(("proj.weight", "fc2.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.drop(self.wte(ids) + self.wpe(torch.arange(t)))
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln_f(x))


def blas_target():
    for path in ("/usr/lib/x86_64-linux-gnu/libblas.so.3", "/usr/lib/aarch64-linux-gnu/libblas.so.3"):
        if os.path.exists(path):
            return os.path.realpath(path)
    return "unknown"


def sgemm_gflops(n=1024, reps=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        out.append(2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--preset", choices=["tiny", "gpt2-small"], default="tiny")
    ap.add_argument("--context", type=int, default=256, help="gpt2-small only: tokens a row")
    ap.add_argument("--batch", type=int, default=4, help="gpt2-small only: rows a batch")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.preset == "tiny":
        cfg = dict(vocab=50257, context=64, c=64, n_layers=2, n_heads=2, dropout=0.0)
        batch, seq = 8, 64
    else:
        cfg = dict(vocab=50257, context=1024, c=768, n_layers=12, n_heads=12, dropout=0.1)
        batch, seq = args.batch, args.context
    model = TinyGPT(**cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    g = torch.Generator().manual_seed(11)
    data = torch.randint(0, cfg["vocab"], (batch * seq + 1,), generator=g)
    xs = data[:-1].view(batch, seq)
    ys = data[1:].view(batch, seq)
    losses, secs = [], []
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        logits = model(xs)
        loss = F.cross_entropy(logits.view(-1, cfg["vocab"]), ys.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if i >= args.warmup:
            secs.append(time.perf_counter() - t0)
    tokens = batch * seq
    shown = torch.__config__.show()
    blas_info = re.search(r"BLAS_INFO=([^,\s]+)", shown)
    capability = re.search(r"CPU capability usage: (\S+)", shown)
    print("BENCH_RESULT " + json.dumps({
        "torch": torch.__version__,
        "preset": args.preset,
        "batch": batch,
        "context": seq,
        "threads": torch.get_num_threads(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
        "blas": blas_target(),
        "blasInfo": blas_info.group(1) if blas_info else "unknown",
        "cpuCapability": capability.group(1) if capability else "unknown",
        "params": sum(p.numel() for p in model.parameters()),
        "sgemm": sgemm_gflops(),
        "tokensPerSec": [tokens / s for s in secs],
        "losses": losses,
    }))


if __name__ == "__main__":
    main()
