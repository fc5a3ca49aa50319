"""Writes the weights and tokenizer of test/fixtures/hf-gpt2-tiny (a random GPT-2 made by
transformers, see make-gpt2-fixtures.py) again in the layout of OpenAI's GPT-2 release:
hparams.json, a TensorFlow checkpoint written by TensorFlow itself (tf.compat.v1.train.Saver,
tensor bundle V2, `[1, in, out]` kernels), encoder.json + vocab.bpe; plus reference logits from a
plain NumPy GPT-2 forward pass (an oracle independent of both transformers and tfgpt), for
packages/layers/test/tensor-bundle.test.ts and openai-gpt2.test.ts.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install --index-url <mirror> tensorflow-cpu==2.21.0 numpy safetensors
    /tmp/venv/bin/python packages/layers/scripts/make-openai-checkpoint-fixture.py

The output (test/fixtures/openai-gpt2-tiny/) is committed; tests need no Python. Versions are
recorded in its reference.json.
"""
import json
import os
import shutil
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "openai-gpt2-tiny")
SOURCE = os.path.join(HERE, "..", "test", "fixtures", "hf-gpt2-tiny")
HPARAMS = {}


def read_hf_weights():
    """The HF fixture's tensors under OpenAI's names (Conv1D weights get their leading 1 back)."""
    from safetensors.numpy import load_file

    with open(os.path.join(SOURCE, "config.json")) as f:
        cfg = json.load(f)
    HPARAMS.update(n_vocab=cfg["vocab_size"], n_ctx=cfg["n_positions"], n_embd=cfg["n_embd"], n_head=cfg["n_head"], n_layer=cfg["n_layer"])
    hf = {k.removeprefix("transformer."): v for k, v in load_file(os.path.join(SOURCE, "model.safetensors")).items()}
    w = {"model/wte": hf["wte.weight"], "model/wpe": hf["wpe.weight"]}
    for i in range(HPARAMS["n_layer"]):
        for ours, theirs in [("ln_1/g", "ln_1.weight"), ("ln_1/b", "ln_1.bias"), ("ln_2/g", "ln_2.weight"), ("ln_2/b", "ln_2.bias")]:
            w[f"model/h{i}/{ours}"] = hf[f"h.{i}.{theirs}"]
        for m in ["attn/c_attn", "attn/c_proj", "mlp/c_fc", "mlp/c_proj"]:
            hf_name = f"h.{i}.{m.replace('/', '.')}"
            w[f"model/h{i}/{m}/w"] = hf[hf_name + ".weight"][None]
            w[f"model/h{i}/{m}/b"] = hf[hf_name + ".bias"]
    w["model/ln_f/g"] = hf["ln_f.weight"]
    w["model/ln_f/b"] = hf["ln_f.bias"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in w.items()}


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def forward(w, ids):
    """GPT-2 as OpenAI's model.py computes it, in float64."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    c, nh = HPARAMS["n_embd"], HPARAMS["n_head"]
    t = len(ids)
    x = w["model/wte"][ids] + w["model/wpe"][:t]
    mask = np.tril(np.ones((t, t), dtype=bool))
    for i in range(HPARAMS["n_layer"]):
        p = f"model/h{i}/"
        h = layer_norm(x, w[p + "ln_1/g"], w[p + "ln_1/b"])
        qkv = h @ w[p + "attn/c_attn/w"][0] + w[p + "attn/c_attn/b"]
        q, k, v = np.split(qkv, 3, axis=-1)
        heads = lambda a: a.reshape(t, nh, c // nh).transpose(1, 0, 2)  # noqa: E731
        q, k, v = heads(q), heads(k), heads(v)
        att = q @ k.transpose(0, 2, 1) / np.sqrt(c // nh)
        att = np.where(mask, att, -1e10)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        a = (att @ v).transpose(1, 0, 2).reshape(t, c)
        x = x + a @ w[p + "attn/c_proj/w"][0] + w[p + "attn/c_proj/b"]
        h = layer_norm(x, w[p + "ln_2/g"], w[p + "ln_2/b"])
        h = gelu(h @ w[p + "mlp/c_fc/w"][0] + w[p + "mlp/c_fc/b"])
        x = x + h @ w[p + "mlp/c_proj/w"][0] + w[p + "mlp/c_proj/b"]
    x = layer_norm(x, w["model/ln_f/g"], w["model/ln_f/b"])
    return x @ w["model/wte"].T


def main():
    weights = read_hf_weights()
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    tf.compat.v1.disable_eager_execution()
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.compat.v1.Variable(value, name=name) for name, value in weights.items()]
        saver = tf.compat.v1.train.Saver(var_list=variables)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, os.path.join(OUT, "model.ckpt"), write_meta_graph=False)
    # TensorFlow records the absolute path; OpenAI's release (and a committed fixture) uses the relative one.
    with open(os.path.join(OUT, "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "model.ckpt"\nall_model_checkpoint_paths: "model.ckpt"\n')
    with open(os.path.join(OUT, "hparams.json"), "w") as f:
        json.dump(HPARAMS, f, indent=2)
    # GPT-2's original tokenizer files are the HF vocab.json / merges.txt under other names.
    shutil.copyfile(os.path.join(SOURCE, "vocab.json"), os.path.join(OUT, "encoder.json"))
    shutil.copyfile(os.path.join(SOURCE, "merges.txt"), os.path.join(OUT, "vocab.bpe"))
    with open(os.path.join(SOURCE, "expected.json")) as f:
        expected = json.load(f)
    ids = expected["prompt_ids"]
    greedy = list(ids)
    for _ in range(8):
        greedy.append(int(forward(weights, greedy)[-1].argmax()))
    # The NumPy oracle agrees with transformers' generate on the HF fixture.
    assert greedy == expected["greedy_ids"][: len(greedy)], (greedy, expected["greedy_ids"])
    reference = {
        "generator": "scripts/make-openai-checkpoint-fixture.py",
        "source": "test/fixtures/hf-gpt2-tiny (made by transformers)",
        "versions": {"tensorflow": tf.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
        "ids": ids,
        # Rows 0, 1 and the last position (the full [T, V] is in hf-gpt2-tiny/expected.safetensors).
        "logitRows": [0, 1, len(ids) - 1],
        "logits": forward(weights, ids)[[0, 1, len(ids) - 1]].astype(np.float32).tolist(),
        "greedy": greedy[len(ids):],
        "first": {name: weights[name].reshape(-1)[:4].tolist() for name in ["model/wte", "model/h1/mlp/c_proj/w", "model/ln_f/b"]},
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f)
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
