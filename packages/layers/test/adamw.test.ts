import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamW, adamW } from "../src/adamw.js";
import "../src/register.js";
import { offTensorflow, ON_TENSORFLOW, useBackend } from "./backends.js";

/** PyTorch's AdamW step (torch/optim/adamw.py, single-tensor path), in float64. */
function torchAdamW(w: number[], grads: number[][], o = { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01 }): number[] {
  const p = [...w];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, step) => {
    const t = step + 1;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] as number;
      p[i] = (p[i] as number) * (1 - o.lr * o.wd);
      m[i] = (m[i] as number) * o.b1 + gi * (1 - o.b1);
      v[i] = (v[i] as number) * o.b2 + gi * gi * (1 - o.b2);
      const denom = Math.sqrt(v[i] as number) / Math.sqrt(1 - o.b2 ** t) + o.eps;
      p[i] = (p[i] as number) - (o.lr / (1 - o.b1 ** t)) * ((m[i] as number) / denom);
    }
  });
  return p;
}

describe("adamW", () => {
  beforeAll(async () => {
    await useBackend(ON_TENSORFLOW ? "tensorflow" : "cpu");
  });

  const start = [1, -2, 0.5, 0];
  const grads = [[0.1, -0.2, 0.3, 0], [0.4, 0, -0.1, 1e-3], [-0.3, 0.2, 0.2, 0.5]];

  it("takes PyTorch's AdamW steps (defaults lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01)", () => {
    const w = tf.variable(tf.tensor1d(start));
    const opt = adamW();
    expect(opt.getConfig()).toEqual({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, decay: "all" });
    for (const g of grads) opt.applyGradients({ [w.name]: tf.tensor1d(g) });
    const expected = torchAdamW(start, grads);
    const got = Array.from(w.dataSync());
    got.forEach((x, i) => expect(x).toBeCloseTo(expected[i] as number, 6));
    expect(opt.iterations).toBe(3);
  });

  it("uses the given hyper-parameters, and with no decay equals tf.train.adam", () => {
    const o = { lr: 0.05, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.1 };
    const w = tf.variable(tf.tensor1d(start));
    const opt = adamW({ learningRate: o.lr, beta1: o.b1, beta2: o.b2, epsilon: o.eps, weightDecay: o.wd });
    for (const g of grads) opt.applyGradients([{ name: w.name, tensor: tf.tensor1d(g) }]);
    const expected = torchAdamW(start, grads, o);
    Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(expected[i] as number, 5));

    const a = tf.variable(tf.tensor1d(start));
    const b = tf.variable(tf.tensor1d(start));
    const mine = adamW({ learningRate: 0.05, weightDecay: 0, epsilon: 1e-7 });
    const theirs = tf.train.adam(0.05, 0.9, 0.999, 1e-7);
    for (const g of grads) {
      mine.applyGradients({ [a.name]: tf.tensor1d(g) });
      theirs.applyGradients([{ name: b.name, tensor: tf.tensor1d(g) }]);
    }
    Array.from(a.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(b.dataSync()[i] as number, 5));
  });

  it("keeps moments by variable name, whatever the order of the gradients", () => {
    const [x1, y1, x2, y2] = [1, 2, 1, 2].map((s) => tf.variable(tf.fill([3], s)));
    const opt1 = adamW({ learningRate: 0.1 });
    const opt2 = adamW({ learningRate: 0.1 });
    for (let i = 0; i < 3; i++) {
      const gx = tf.fill([3], 0.5 + i);
      const gy = tf.fill([3], -1 - i);
      opt1.applyGradients({ [x1!.name]: gx, [y1!.name]: gy });
      opt2.applyGradients(i % 2 === 0 ? { [y2!.name]: gy, [x2!.name]: gx } : { [x2!.name]: gx, [y2!.name]: gy });
    }
    expect(Array.from(x2!.dataSync())).toEqual(Array.from(x1!.dataSync()));
    expect(Array.from(y2!.dataSync())).toEqual(Array.from(y1!.dataSync()));
  });

  it("saves and restores its state (step count and moments) for checkpoints", async () => {
    const w = tf.variable(tf.tensor1d(start));
    const opt = adamW({ learningRate: 0.01 });
    for (const g of grads.slice(0, 2)) opt.applyGradients({ [w.name]: tf.tensor1d(g) });
    const saved = await opt.getWeights();
    expect(saved.map((s) => s.name)).toEqual(["iter", `${w.name}/m`, `${w.name}/v`]);
    const copy = saved.map((s) => ({ name: s.name, tensor: s.tensor.clone() }));
    const wCopy = tf.variable(w.clone());

    const resumed = adamW({ learningRate: 0.01 });
    // Restored under another variable's name: the state is keyed by name.
    await resumed.setWeights(copy.map((s) => ({ name: s.name.replace(w.name, wCopy.name), tensor: s.tensor })));
    expect(resumed.iterations).toBe(2);
    opt.applyGradients({ [w.name]: tf.tensor1d(grads[2]!) });
    resumed.applyGradients({ [wCopy.name]: tf.tensor1d(grads[2]!) });
    expect(Array.from(wCopy.dataSync())).toEqual(Array.from(w.dataSync()));
    await expect(resumed.setWeights([{ name: "iter", tensor: tf.scalar(1) }, { name: "nope", tensor: tf.zeros([1]) }])).rejects.toThrow(/unexpected weight name "nope"/);
  });

  it("gives restored moments whose names match no variable to the next variables in order, checked by shape", async () => {
    const a = tf.variable(tf.tensor1d(start));
    const b = tf.variable(tf.zeros([2, 2]));
    const opt = adamW({ learningRate: 0.01 });
    for (const g of grads.slice(0, 2)) opt.applyGradients({ [a.name]: tf.tensor1d(g), [b.name]: tf.ones([2, 2]) });
    const saved = (await opt.getWeights()).map((s) => ({ name: s.name.replace(/^(.*)\/([mv])$/, "gone_$1/$2"), tensor: s.tensor.clone() }));
    const [a2, b2] = [tf.variable(a.clone()), tf.variable(b.clone())];
    const resumed = adamW({ learningRate: 0.01 });
    await resumed.setWeights(saved);
    expect((await resumed.getWeights()).length).toBe(5); // still saved while unclaimed
    opt.applyGradients({ [a.name]: tf.tensor1d(grads[2]!), [b.name]: tf.ones([2, 2]) });
    resumed.applyGradients({ [a2.name]: tf.tensor1d(grads[2]!), [b2.name]: tf.ones([2, 2]) });
    expect(Array.from(a2.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(Array.from(b2.dataSync())).toEqual(Array.from(b.dataSync()));

    const wrongOrder = adamW();
    await wrongOrder.setWeights(saved.map((s) => ({ name: s.name, tensor: s.tensor.clone() })));
    expect(() => wrongOrder.applyGradients({ [b2.name]: tf.ones([2, 2]) })).toThrow(/restored moments of "gone_.*" have shape \[4\], but .* has shape \[2, 2\]/);
  });

  it("round-trips through tf.serialization and validates its options", () => {
    const opt = adamW({ learningRate: 3e-4, weightDecay: 0.1 });
    expect(AdamW.className).toBe("AdamW");
    const again = AdamW.fromConfig(AdamW, opt.getConfig());
    expect(again.getConfig()).toEqual(opt.getConfig());
    expect(() => adamW({ learningRate: 0 })).toThrow(/`learningRate` must be a positive number, received 0/);
    expect(() => adamW({ beta2: 1 })).toThrow(/`beta2` must be a number in \[0, 1\), received 1/);
    expect(() => adamW({ momentum: 0.1 } as never)).toThrow(/adamW has no option `momentum`/);
    expect(() => adamW({ decay: "biases" } as never)).toThrow(/`decay` must be "all" or "matrices"/);
  });

  it("does not leak tensors across steps", () => {
    const w = tf.variable(tf.tensor1d(start));
    const g = tf.tensor1d(grads[0]!);
    const before = tf.memory().numTensors;
    const opt = adamW();
    opt.applyGradients({ [w.name]: g });
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) opt.applyGradients({ [w.name]: g });
    expect(tf.memory().numTensors).toBe(afterFirst);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(ON_TENSORFLOW)(offTensorflow("refuses `fused: true` off the tensorflow backend, naming the option", "the tensorflow backend has it"), () => {
    const w = tf.variable(tf.tensor1d(start));
    const opt = adamW({ fused: true });
    expect(() => opt.applyGradients({ [w.name]: tf.tensor1d(grads[0]!) })).toThrow(/`fused` true needs the tensorflow backend \(@tensorflow\/tfjs-node\), the active backend is cpu/);
    expect(() => adamW({ fused: "yes" } as never)).toThrow(/`fused` must be a boolean/);
    expect(adamW({ fused: false }).getConfig()["fused"]).toBe(false);
  });

  describe.runIf(ON_TENSORFLOW)("fused (TensorFlow's ResourceApplyAdam, the default on tfjs-node)", () => {
    const shapes = [[3, 4], [4], [2, 3, 2]];
    const gradsAt = (step: number) => shapes.map((s, i) => tf.tidy(() => tf.sin(tf.add(tf.range(0, s.reduce((a, b) => a * b), 1), step * 3 + i)).reshape(s)));
    const run = (fused: boolean, steps: number, opt = adamW({ learningRate: 0.01, weightDecay: 0.1, decay: "matrices", fused })) => {
      const vars = shapes.map((s, i) => tf.variable(tf.tidy(() => tf.cos(tf.range(0, s.reduce((a, b) => a * b), 1)).mul(i + 1).reshape(s))));
      for (let t = 0; t < steps; t++) {
        const g = gradsAt(t);
        opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, g[i]!])));
        tf.dispose(g);
      }
      return { vars, opt };
    };

    it("takes the same steps as the tfjs-ops path and PyTorch's formula, decay groups included", () => {
      const fused = run(true, 5);
      const ops = run(false, 5);
      fused.vars.forEach((v, i) => {
        const a = v.dataSync();
        const b = ops.vars[i]!.dataSync();
        a.forEach((x, j) => expect(Math.abs(x - (b[j] as number))).toBeLessThan(2e-6));
      });
      const w = tf.variable(tf.tensor1d(start));
      const opt = adamW({ fused: true });
      for (const g of grads) opt.applyGradients({ [w.name]: tf.tensor1d(g) });
      const expected = torchAdamW(start, grads);
      Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(expected[i] as number, 6));
    });

    it("saves its moments like the ops path and resumes across paths", async () => {
      const fused = run(true, 3);
      const ops = run(false, 3);
      const [fw, ow] = [await fused.opt.getWeights(), await ops.opt.getWeights()];
      expect(fw.map((x) => x.name.replace(/^.*?(\/[mv])?$/, "$1"))).toEqual(ow.map((x) => x.name.replace(/^.*?(\/[mv])?$/, "$1")));
      fw.forEach((x, i) => {
        const b = ow[i]!.tensor.dataSync();
        x.tensor.dataSync().forEach((y, j) => expect(Math.abs(y - (b[j] as number))).toBeLessThan(1e-6));
      });
      // A fused optimizer restored from the ops path's state (and the reverse) continues the same run.
      const copy = (ws: typeof fw, from: tf.Variable[], to: tf.Variable[]) =>
        ws.map((x) => ({ name: from.reduce((n, v, i) => n.replace(`${v.name}/`, `${to[i]!.name}/`), x.name), tensor: x.tensor.clone() }));
      const intoFused = shapes.map((_, i) => tf.variable(ops.vars[i]!.clone()));
      const resumedFused = adamW({ learningRate: 0.01, weightDecay: 0.1, decay: "matrices", fused: true });
      await resumedFused.setWeights(copy(ow, ops.vars, intoFused));
      const g = gradsAt(3);
      resumedFused.applyGradients(Object.fromEntries(intoFused.map((v, i) => [v.name, g[i]!])));
      ops.opt.applyGradients(Object.fromEntries(ops.vars.map((v, i) => [v.name, g[i]!])));
      intoFused.forEach((v, i) => {
        const b = ops.vars[i]!.dataSync();
        v.dataSync().forEach((x, j) => expect(Math.abs(x - (b[j] as number))).toBeLessThan(2e-6));
      });
      // Fused to fused: bit for bit.
      const fw2 = await fused.opt.getWeights();
      const twin = shapes.map((_, i) => tf.variable(fused.vars[i]!.clone()));
      const resumed = adamW({ learningRate: 0.01, weightDecay: 0.1, decay: "matrices", fused: true });
      await resumed.setWeights(copy(fw2, fused.vars, twin));
      fused.opt.applyGradients(Object.fromEntries(fused.vars.map((v, i) => [v.name, g[i]!])));
      resumed.applyGradients(Object.fromEntries(twin.map((v, i) => [v.name, g[i]!])));
      twin.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(fused.vars[i]!.dataSync())));
    });

    it("sees weights set between steps (the tfjs variable stays the source of truth)", () => {
      const w = tf.variable(tf.tensor1d(start));
      const opt = adamW({ fused: true, weightDecay: 0 });
      opt.applyGradients({ [w.name]: tf.tensor1d(grads[0]!) });
      w.assign(tf.tensor1d([10, 10, 10, 10]));
      opt.applyGradients({ [w.name]: tf.tensor1d([0, 0, 0, 0]) });
      // m after two steps: 0.09 g1, so every weight moves by less than 1e-3 from 10.
      Array.from(w.dataSync()).forEach((x) => expect(Math.abs(x - 10)).toBeLessThan(1e-3));
    });
  });
});
