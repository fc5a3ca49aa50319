import * as tf from "@tensorflow/tfjs";
import { TokenEmbedding } from "./token-embedding.js";

// Every custom layer registers here, once, so that `tf.loadLayersModel` can rebuild models
// that use them. `index.ts` imports this file for its side effect.
tf.serialization.registerClass(TokenEmbedding);
