import * as tf from "@tensorflow/tfjs";
import { AdamW } from "./adamw.js";
import { LastToken } from "./classifier.js";
import { CausalSelfAttention } from "./attention.js";
import { GPTModel } from "./gpt-model.js";
import { LayerNorm } from "./layer-norm.js";
import { PositionalEmbedding } from "./positional-embedding.js";
import { TokenAndPositionEmbedding } from "./token-and-position-embedding.js";
import { TokenEmbedding } from "./token-embedding.js";
import { TransformerBlock } from "./transformer-block.js";

// Every custom layer registers here, once, so that `tf.loadLayersModel` can rebuild models
// that use them. `index.ts` imports this file for its side effect.
tf.serialization.registerClass(TokenEmbedding);
tf.serialization.registerClass(PositionalEmbedding);
tf.serialization.registerClass(TokenAndPositionEmbedding);
tf.serialization.registerClass(CausalSelfAttention);
tf.serialization.registerClass(TransformerBlock);
tf.serialization.registerClass(LayerNorm);
tf.serialization.registerClass(GPTModel);
tf.serialization.registerClass(AdamW);
tf.serialization.registerClass(LastToken);
