// The baseline for row 2: a direct port of the book's GPTDatasetV1 (ch. 2) and of a plain
// shuffling loader, as a JavaScript user would first write them: every window is a copied array.
import { mulberry32 } from "./rng.js";

/** GPTDatasetV1: inputs/targets as arrays of window copies (Python: lists of torch tensors). */
export class GPTDatasetV1 {
  constructor(tokenIds, maxLength, stride) {
    this.inputIds = [];
    this.targetIds = [];
    for (let i = 0; i < tokenIds.length - maxLength; i += stride) {
      this.inputIds.push(tokenIds.slice(i, i + maxLength));
      this.targetIds.push(tokenIds.slice(i + 1, i + maxLength + 1));
    }
  }

  get length() {
    return this.inputIds.length;
  }
}

/**
 * A plain DataLoader port: seeded Fisher-Yates shuffle, drop_last, and collation of each batch
 * into flat Int32Arrays [batchSize * maxLength] (what tf.tensor2d wants, as torch's collate does).
 */
export function* loaderV1(ds, { batchSize, seed }) {
  const order = Array.from({ length: ds.length }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const t = ds.inputIds[0].length;
  for (let b = 0; b + batchSize <= order.length; b += batchSize) {
    const xs = new Int32Array(batchSize * t);
    const ys = new Int32Array(batchSize * t);
    for (let r = 0; r < batchSize; r++) {
      xs.set(ds.inputIds[order[b + r]], r * t);
      ys.set(ds.targetIds[order[b + r]], r * t);
    }
    yield { xs, ys };
  }
}
