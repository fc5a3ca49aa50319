import { z } from "zod";
import { gpt2Normal, type InitializerSpec } from "./initializers.js";

/**
 * zod schema of a layer's initializer option: a `tf.initializers` instance, its camelCase name
 * (`"zeros"`) or its serialized `{className, config}` (`resolveInitializer` turns each into an
 * initializer). Default: GPT-2's `randomNormal({mean: 0, stddev: 0.02})` (`gpt2Normal()`), made
 * afresh for each parse.
 */
export const InitializerOptionSchema = z
  .custom<InitializerSpec>((v) => typeof v === "string" || (typeof v === "object" && v !== null))
  .default(() => gpt2Normal())
  .describe("a tf.initializers instance, its name or its {className, config}");
