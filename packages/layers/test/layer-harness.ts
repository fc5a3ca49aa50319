// The checks every layer of the package passes (keras-hub's `TestCase.run_layer_test`): build and
// output shape (eager and symbolic), config round trip through the serialization registry, save
// and load in a model (tf.io memory handler: same weights by path, same outputs), one training
// step (finite loss, the weights move), and no leaked tensors. Used by `layers.test.ts`.
import * as tf from "@tensorflow/tfjs";
import { expect, it } from "vitest";
import { maxAbsDiff } from "./backends.js";

/** One layer to check. */
export interface LayerCase {
  /** A name for the test titles (e.g. `TransformerBlock with LoRA`). */
  readonly name: string;
  /** A fresh layer. */
  readonly make: () => tf.layers.Layer;
  /** A fresh input (ids int32 or activations float32), batch first. */
  readonly input: () => tf.Tensor;
  /** The output's shape for that input. */
  readonly outputShape: readonly number[];
  /** How many weights the built layer has (trainable or not). */
  readonly weights: number;
  /**
   * Whether one training step moves every trainable weight. Default true; false where some start
   * with a zero gradient (LoRA's A matrices while B is zero): then at least one must move.
   */
  readonly everyWeightTrains?: boolean;
}

function modelAround(layer: tf.layers.Layer, input: tf.Tensor): tf.LayersModel {
  const x = tf.input({ shape: input.shape.slice(1), dtype: input.dtype as "int32" | "float32" });
  return tf.model({ inputs: x, outputs: layer.apply(x) as tf.SymbolicTensor });
}

/** Saves `model` through a tf.io memory handler and loads it back (as `loadLayersModel` does from files). */
export async function saveAndLoad(model: tf.LayersModel): Promise<{ loaded: tf.LayersModel; artifacts: tf.io.ModelArtifacts }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  if (saved === undefined) throw new Error("nothing saved");
  return { loaded: await tf.loadLayersModel(tf.io.fromMemory(saved)), artifacts: saved };
}

/** A scalar loss of the layer's output in training mode, and the variables it trains. */
function lossOf(layer: tf.layers.Layer, input: tf.Tensor): tf.Scalar {
  return tf.mean(tf.square(tf.sub(layer.apply(input, { training: true }) as tf.Tensor, 0.5))) as tf.Scalar;
}

/** Registers the harness's tests (`it`) for `c`, inside the caller's `describe`. */
export function layerTests(c: LayerCase): void {
  it(`${c.name}: builds, output shape eager and symbolic, ${c.weights} weights`, () => {
    const layer = c.make();
    const y = layer.apply(c.input()) as tf.Tensor;
    expect(layer.built).toBe(true);
    expect(y.shape).toEqual(c.outputShape);
    expect(layer.weights).toHaveLength(c.weights);
    const x = tf.input({ shape: c.input().shape.slice(1), dtype: c.input().dtype as "int32" | "float32" });
    const symbolic = c.make().apply(x) as tf.SymbolicTensor;
    expect(symbolic.shape).toEqual([null, ...c.outputShape.slice(1)]);
  });

  it(`${c.name}: config round trip through the serialization registry`, () => {
    const layer = c.make();
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
    expect(entry, `${layer.getClassName()} is registered (register.ts)`).toBeDefined();
    const [cls, fromConfig] = entry!;
    const config = layer.getConfig();
    const copy = fromConfig(cls, config) as tf.layers.Layer;
    expect(copy.getClassName()).toBe(layer.getClassName());
    expect(copy.getConfig()).toEqual(config);
  });

  it(`${c.name}: save and load in a model (memory handler): same weights by path, same outputs`, async () => {
    const layer = c.make();
    const model = modelAround(layer, c.input());
    // Moved off their initial values (zero biases, zero LoRA B) so that a weight loaded wrong shows.
    for (const w of model.weights) w.write(tf.tidy(() => tf.add(w.read(), tf.randomNormal(w.shape as number[], 0, 0.1, "float32", 7))));
    const { loaded } = await saveAndLoad(model);
    expect(loaded.weights.map((w) => w.originalName)).toEqual(model.weights.map((w) => w.originalName));
    expect(loaded.weights.map((w) => w.trainable)).toEqual(model.weights.map((w) => w.trainable));
    expect(maxAbsDiff(model.predict(c.input()) as tf.Tensor, loaded.predict(c.input()) as tf.Tensor)).toBe(0);
  });

  it(`${c.name}: one training step: finite loss, the weights move, no leaked tensors`, () => {
    const layer = c.make();
    const input = c.input();
    layer.apply(input);
    const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    if (vars.length === 0) {
      expect(c.weights).toBe(0);
      const before = tf.memory().numTensors;
      tf.dispose(layer.apply(input) as tf.Tensor);
      expect(tf.memory().numTensors).toBe(before);
      return;
    }
    const optimizer = tf.train.sgd(0.5);
    const initial = vars.map((v) => v.clone());
    const loss = optimizer.minimize(() => lossOf(layer, input), true, vars);
    expect(Number.isFinite(loss?.dataSync()[0])).toBe(true);
    const moved = vars.map((v, i) => maxAbsDiff(v, initial[i] as tf.Tensor) > 0);
    if (c.everyWeightTrains === false) expect(moved).toContain(true);
    else expect(moved).toEqual(vars.map(() => true));
    tf.dispose([loss ?? [], ...initial]);
    // The forward pass and a backward pass leave nothing behind.
    const before = tf.memory().numTensors;
    tf.dispose(layer.apply(input) as tf.Tensor);
    const { value, grads } = tf.variableGrads(() => lossOf(layer, input), vars);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });
}
