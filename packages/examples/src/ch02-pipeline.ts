/**
 * The chapter-2 notebook ("Working with text data") as one function over our packages: read
 * the text, encode it with GPT-2's BPE, cut next-token windows, batch them, and embed a batch
 * (token + absolute position vectors). Returns what each notebook cell prints, so the
 * `walkthrough` command prints it and tests compare it with the golden values.
 */
import * as tf from "@tensorflow/tfjs";
import { DataLoader, GPTDataset } from "@tfgpt/datasets";
import { PositionalEmbedding, TokenEmbedding } from "@tfgpt/layers";
import type { Tokenizer } from "@tfgpt/tokenizers";

/** A batch as nested arrays, rows of ids. */
export interface BatchRows {
  readonly inputs: number[][];
  readonly targets: number[][];
}

/** What the notebook's cells print. */
export interface Chapter2Result {
  /** `len(raw_text)`. */
  readonly characters: number;
  /** `len(tokenizer.encode(raw_text))`. */
  readonly tokenCount: number;
  /** The first ids. */
  readonly firstTokens: number[];
  /** The notebook's `context_size = 4` pairs on `enc_text[50:]`: `[context ids, desired id]`. */
  readonly nextTokenPairs: Array<[number[], number]>;
  /** `max_length=4, stride=1, batch_size=1, shuffle=False`: the first two batches. */
  readonly stride1Batches: [BatchRows, BatchRows];
  /** `max_length=4, stride=4, batch_size=8, shuffle=False`: the first batch. */
  readonly batch8x4: BatchRows;
  /** `token_embedding_layer(inputs).shape`: `[8, 4, 256]`. */
  readonly tokenEmbeddingShape: number[];
  /** `pos_embedding_layer(torch.arange(4)).shape`: `[4, 256]`. */
  readonly positionEmbeddingShape: number[];
  /** `(token_embeddings + pos_embeddings).shape`: `[8, 4, 256]`. */
  readonly inputEmbeddingShape: number[];
}

function rows(flat: Int32Array, width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push(Array.from(flat.subarray(i, i + width)));
  return out;
}

function firstBatches(ids: Int32Array, maxLength: number, stride: number, batchSize: number, count: number): BatchRows[] {
  const loader = new DataLoader(new GPTDataset(ids, { maxLength, stride }), { batchSize, shuffle: false, dropLast: true });
  return Array.from({ length: count }, () => {
    const b = loader.nextBatch();
    return { inputs: rows(b.inputs, maxLength), targets: rows(b.targets, maxLength) };
  });
}

/**
 * Runs the notebook's pipeline on `text`.
 *
 * @param text the raw text (the notebook's `the-verdict.txt`).
 * @param tokenizer the notebook's `tiktoken.get_encoding("gpt2")`: `getTokenizer("gpt2")`.
 * @param embeddingDim width of the embeddings. Default 256, as in the notebook.
 * @example const result = chapter2(text, getTokenizer("gpt2")); result.tokenCount // 5145
 */
export function chapter2(text: string, tokenizer: Tokenizer, embeddingDim = 256): Chapter2Result {
  const ids = Int32Array.from(tokenizer.encode(text, { allowedSpecial: ["<|endoftext|>"] }));
  const sample = ids.subarray(50);
  const nextTokenPairs: Array<[number[], number]> = [];
  for (let i = 1; i <= 4; i++) nextTokenPairs.push([Array.from(sample.subarray(0, i)), sample[i] as number]);

  const [b1, b2] = firstBatches(ids, 4, 1, 1, 2) as [BatchRows, BatchRows];
  const [batch8x4] = firstBatches(ids, 4, 4, 8, 1) as [BatchRows];

  const shapes = tf.tidy(() => {
    const inputs = tf.tensor2d(batch8x4.inputs.flat(), [8, 4], "int32");
    const tokenLayer = new TokenEmbedding({ vocabSize: tokenizer.vocabSize, embeddingDim });
    const positionLayer = new PositionalEmbedding({ maxLength: 4, embeddingDim });
    const tokenEmbeddings = tokenLayer.apply(inputs) as tf.Tensor; // [8, 4, 256]
    positionLayer.apply(inputs); // builds the table
    const positionEmbeddings = positionLayer.vectors(4); // [4, 256]
    const inputEmbeddings = tf.add(tokenEmbeddings, positionEmbeddings); // broadcast: [8, 4, 256]
    const result = {
      token: tokenEmbeddings.shape,
      position: positionEmbeddings.shape,
      input: inputEmbeddings.shape,
    };
    tokenLayer.dispose();
    positionLayer.dispose();
    return result;
  });

  return {
    characters: text.length,
    tokenCount: ids.length,
    firstTokens: Array.from(ids.subarray(0, 10)),
    nextTokenPairs,
    stride1Batches: [b1, b2],
    batch8x4,
    tokenEmbeddingShape: shapes.token,
    positionEmbeddingShape: shapes.position,
    inputEmbeddingShape: shapes.input,
  };
}
