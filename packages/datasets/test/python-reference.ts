/**
 * A direct port of the book's Python, kept deliberately naive, to compare against:
 *
 * ```python
 * class GPTDatasetV1(Dataset):
 *     def __init__(self, txt, tokenizer, max_length, stride):
 *         token_ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
 *         for i in range(0, len(token_ids) - max_length, stride):
 *             self.input_ids.append(torch.tensor(token_ids[i:i + max_length]))
 *             self.target_ids.append(torch.tensor(token_ids[i + 1: i + max_length + 1]))
 * ```
 * and `DataLoader(dataset, batch_size, shuffle=False, drop_last)` batching.
 */
export interface ReferenceWindow {
  input: number[];
  target: number[];
}

/** `range(start, stop, step)` for a positive step. */
function range(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

export function referenceWindows(ids: readonly number[], maxLength: number, stride: number): ReferenceWindow[] {
  return range(0, ids.length - maxLength, stride).map((i) => ({
    input: ids.slice(i, i + maxLength),
    target: ids.slice(i + 1, i + maxLength + 1),
  }));
}

/** PyTorch's unshuffled batching: consecutive chunks, the last partial one dropped if `dropLast`. */
export function referenceBatches(
  windows: readonly ReferenceWindow[],
  batchSize: number,
  dropLast: boolean,
): { inputs: number[][]; targets: number[][] }[] {
  const batches: { inputs: number[][]; targets: number[][] }[] = [];
  for (let i = 0; i < windows.length; i += batchSize) {
    const chunk = windows.slice(i, i + batchSize);
    if (dropLast && chunk.length < batchSize) break;
    batches.push({ inputs: chunk.map((w) => w.input), targets: chunk.map((w) => w.target) });
  }
  return batches;
}

/** Splits a flat row-major batch into rows, for comparisons. */
export function rows(flat: ArrayLike<number>, maxLength: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += maxLength) out.push(Array.from(flat).slice(i, i + maxLength));
  return out;
}

/** Synthetic ids where token i == i (offset so windows are easy to read), as llm.c's tests do. */
export function iota(n: number, offset = 0): number[] {
  return Array.from({ length: n }, (_, i) => i + offset);
}

/** A small seeded PRNG for the tests themselves, independent of the one under test (an LCG). */
export function testRandom(seed: number): (n: number) => number {
  let s = BigInt(seed);
  return (n: number) => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 33n) % n;
  };
}
