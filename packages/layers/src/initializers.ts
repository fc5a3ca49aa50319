import * as tf from "@tensorflow/tfjs";
import { createRng } from "@tfgpt/common";
import { LayerConfigError } from "./errors.js";

/** A tfjs-layers initializer (the class itself is not exported by tfjs, its type is). */
export type Initializer = ReturnType<typeof tf.initializers.ones>;

/** A tfjs initializer instance, its camelCase name (`"randomNormal"`) or its serialized form. */
export type InitializerSpec =
  | Initializer
  | string
  | { className: string; config?: Record<string, unknown> };

/** The serialized form stored in layer configs: tfjs's own `{className, config}` layout. */
export interface SerializedInitializer {
  className: string;
  config: Record<string, unknown>;
}

type Factory = (config: Record<string, unknown>) => Initializer;

/**
 * Turns an `InitializerSpec` into an initializer. Strings name a factory of `tf.initializers`
 * (`"zeros"`, `"randomNormal"`, ...); objects are looked up in the tfjs serialization registry,
 * where tfjs-layers registers every built-in initializer.
 */
export function resolveInitializer(spec: InitializerSpec, option: string): Initializer {
  if (typeof spec === "object" && typeof (spec as Initializer).apply === "function") return spec as Initializer;
  if (typeof spec === "string") {
    const factory = (tf.initializers as unknown as Record<string, Factory | undefined>)[spec];
    if (typeof factory !== "function") {
      throw new LayerConfigError(`\`${option}\` must name a tf.initializers factory, received ${JSON.stringify(spec)}`, option);
    }
    return factory({});
  }
  const serialized = spec as { className: string; config?: Record<string, unknown> };
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[serialized.className];
  if (entry === undefined) {
    throw new LayerConfigError(`\`${option}\` names an unknown initializer class, received ${JSON.stringify(serialized.className)}`, option);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, (serialized.config ?? {}) as tf.serialization.ConfigDict) as Initializer;
}

/** `{className, config}` of an initializer, as tfjs-layers stores it in `getConfig()`. */
export function serializeInitializer(init: Initializer): SerializedInitializer {
  return { className: init.getClassName(), config: init.getConfig() as Record<string, unknown> };
}

/** GPT-2's initializer: normal with mean 0 and the given standard deviation (0.02 by default). */
export function gpt2Normal(stddev = 0.02, seed?: number): Initializer {
  return tf.initializers.randomNormal(seed === undefined ? { mean: 0, stddev } : { mean: 0, stddev, seed });
}

type RandomNormalInstance = ReturnType<typeof tf.initializers.randomNormal>;
const RandomNormal = tf.initializers.randomNormal({}).constructor as new (args: { mean?: number; stddev?: number }) => RandomNormalInstance;

/**
 * A seeded stream of GPT-2 normal initializers: every tensor any of them makes draws a fresh seed
 * from one generator seeded with `seed`, so that building the same model twice (same layers, same
 * order) gives the same weights, without touching `Math.random` (tfjs's unseeded initializers use
 * it). Each initializer serializes as a plain `RandomNormal` (no seed), as the unseeded ones do.
 *
 * @example const normal = seededNormals(0); const init = normal(0.02);
 */
export function seededNormals(seed: number): (stddev: number) => Initializer {
  // One seed per weight, drawn from a mulberry32 stream (`@tfgpt/common`).
  const next = createRng(seed ^ 0x9e3779b9).uint32;
  class SeededNormal extends RandomNormal {
    private readonly stddevValue: number;
    constructor(stddev: number) {
      super({ mean: 0, stddev });
      this.stddevValue = stddev;
    }
    override apply(shape: number[], dtype?: tf.DataType): tf.Tensor {
      return tf.randomNormal(shape, 0, this.stddevValue, dtype === "int32" ? "int32" : "float32", next());
    }
  }
  return (stddev) => new SeededNormal(stddev);
}
