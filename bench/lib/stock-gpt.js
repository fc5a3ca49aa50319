// The baseline for row 4: the tiny GPT as a tfjs user writes it with stock pieces only:
// tf.layers.embedding for tokens, a learned position table, pre-LayerNorm blocks from core ops,
// an untied tf.layers.dense head, tf.losses.softmaxCrossEntropy over one-hot targets, tf.train.adam
// (tfjs has no AdamW). Same shapes and FLOPs as createGPT("tiny").
import * as tf from "@tensorflow/tfjs";

/** Builds the stock model; returns { step(xs, ys) -> loss number, params }. */
export function createStockGPT({ vocabSize, contextLength, embedDim, nLayers, nHeads, learningRate = 3e-4, seed = 1 }) {
  const C = embedDim;
  const hd = C / nHeads;
  let s = seed;
  const init = (shape, std = 0.02) => tf.variable(tf.randomNormal(shape, 0, std, "float32", s++));
  const zeros = (shape) => tf.variable(tf.zeros(shape));
  const ones = (shape) => tf.variable(tf.ones(shape));
  const wte = tf.layers.embedding({ inputDim: vocabSize, outputDim: C, embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.02, seed: s++ }) });
  const wpe = init([contextLength, C]);
  const blocks = [];
  for (let l = 0; l < nLayers; l++) {
    blocks.push({
      ln1g: ones([C]), ln1b: zeros([C]),
      wqkv: init([C, 3 * C]), // no qkv bias, as the tiny preset
      wproj: init([C, C], 0.02 / Math.sqrt(2 * nLayers)), bproj: zeros([C]),
      ln2g: ones([C]), ln2b: zeros([C]),
      wfc: init([C, 4 * C]), bfc: zeros([4 * C]),
      wfc2: init([4 * C, C], 0.02 / Math.sqrt(2 * nLayers)), bfc2: zeros([C]),
    });
  }
  const lnfg = ones([C]);
  const lnfb = zeros([C]);
  const head = tf.layers.dense({ units: vocabSize, useBias: false, kernelInitializer: tf.initializers.randomNormal({ stddev: 0.02, seed: s++ }) });
  const mask = tf.linalg.bandPart(tf.ones([contextLength, contextLength]), -1, 0); // 1 on and below the diagonal
  const optimizer = tf.train.adam(learningRate);

  const layerNorm = (x, g, b) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  const gelu = (x) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
  const linear = (x2d, w, b) => tf.add(tf.matMul(x2d, w), b);

  const forward = (ids) => {
    const [B, T] = ids.shape;
    let x = tf.add(wte.apply(ids), tf.slice(wpe, [0, 0], [T, C])); // [B, T, C]
    const m = tf.slice(mask, [0, 0], [T, T]);
    const negInf = tf.mul(tf.sub(1, m), -1e9);
    for (const p of blocks) {
      const h = tf.reshape(layerNorm(x, p.ln1g, p.ln1b), [B * T, C]);
      const qkv = tf.matMul(h, p.wqkv); // [B*T, 3C]
      const heads = (t) => tf.transpose(tf.reshape(t, [B, T, nHeads, hd]), [0, 2, 1, 3]); // [B, H, T, hd]
      const [q, k, v] = tf.split(qkv, 3, 1).map(heads);
      let att = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)); // [B, H, T, T]
      att = tf.softmax(tf.add(tf.mul(att, m), negInf));
      const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, C]);
      x = tf.add(x, tf.reshape(linear(y, p.wproj, p.bproj), [B, T, C]));
      const h2 = tf.reshape(layerNorm(x, p.ln2g, p.ln2b), [B * T, C]);
      const mlp = linear(gelu(linear(h2, p.wfc, p.bfc)), p.wfc2, p.bfc2);
      x = tf.add(x, tf.reshape(mlp, [B, T, C]));
    }
    return head.apply(layerNorm(x, lnfg, lnfb)); // [B, T, V]
  };

  // Build the Keras layers once so their weights exist before the first minimize().
  tf.tidy(() => forward(tf.zeros([1, contextLength], "int32")));
  const variables = [wte.trainableWeights[0].read(), wpe, ...blocks.flatMap((p) => Object.values(p)), lnfg, lnfb, head.trainableWeights[0].read()];
  const params = variables.reduce((n, v) => n + v.size, 0);

  const step = (xs, ys) => {
    const loss = optimizer.minimize(() => {
      const logits = forward(xs);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(ys, vocabSize), logits);
    }, true, variables);
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  return { step, params };
}
