"""Writes a small GPT-2-shaped checkpoint in the layout of OpenAI's GPT-2 release, with TensorFlow
itself (tf.compat.v1.train.Saver, tensor bundle V2), plus reference logits computed with a plain
NumPy GPT-2 forward pass, for packages/layers/test/tensor-bundle.test.ts.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install --index-url <mirror> tensorflow-cpu==2.21.0 numpy
    /tmp/venv/bin/python packages/layers/scripts/make-openai-checkpoint-fixture.py

The output (test/fixtures/openai-gpt2-tiny/) is committed; tests need no Python. Versions are
recorded in its reference.json.
"""
import json
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "openai-gpt2-tiny")
HPARAMS = {"n_vocab": 97, "n_ctx": 24, "n_embd": 16, "n_head": 2, "n_layer": 2}


def make_weights(rng):
    v, t, c, n = HPARAMS["n_vocab"], HPARAMS["n_ctx"], HPARAMS["n_embd"], HPARAMS["n_layer"]
    r = lambda *shape: (rng.standard_normal(shape) * 0.2).astype(np.float32)  # noqa: E731
    w = {"model/wte": r(v, c), "model/wpe": r(t, c)}
    for i in range(n):
        p = f"model/h{i}/"
        w[p + "ln_1/g"] = (1 + r(c)).astype(np.float32)
        w[p + "ln_1/b"] = r(c)
        w[p + "attn/c_attn/w"] = r(1, c, 3 * c)
        w[p + "attn/c_attn/b"] = r(3 * c)
        w[p + "attn/c_proj/w"] = r(1, c, c)
        w[p + "attn/c_proj/b"] = r(c)
        w[p + "ln_2/g"] = (1 + r(c)).astype(np.float32)
        w[p + "ln_2/b"] = r(c)
        w[p + "mlp/c_fc/w"] = r(1, c, 4 * c)
        w[p + "mlp/c_fc/b"] = r(4 * c)
        w[p + "mlp/c_proj/w"] = r(1, 4 * c, c)
        w[p + "mlp/c_proj/b"] = r(c)
    w["model/ln_f/g"] = (1 + r(c)).astype(np.float32)
    w["model/ln_f/b"] = r(c)
    return w


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
    rng = np.random.default_rng(84)
    weights = make_weights(rng)
    os.makedirs(OUT, exist_ok=True)
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
    ids = [int(i) for i in rng.integers(0, HPARAMS["n_vocab"], size=10)]
    greedy = list(ids)
    for _ in range(8):
        greedy.append(int(forward(weights, greedy)[-1].argmax()))
    reference = {
        "generator": "scripts/make-openai-checkpoint-fixture.py",
        "versions": {"tensorflow": tf.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
        "ids": ids,
        "logits": forward(weights, ids).astype(np.float32).tolist(),
        "greedy": greedy[len(ids):],
        "first": {name: weights[name].reshape(-1)[:4].tolist() for name in ["model/wte", "model/h1/mlp/c_proj/w", "model/ln_f/b"]},
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f)
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
