/**
 * `createDataLoader(text, options)`: the book's `create_dataloader_v1` in one call (tokenizer by
 * name or instance -> `GPTDataset` -> `DataLoader`), with the book's defaults.
 */
import { getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import { DataLoader } from "./data-loader.js";
import { GPTDataset } from "./gpt-dataset.js";
import { CreateDataLoaderOptionsSchema, parseOptions, type CreateDataLoaderOptions } from "./options.js";

/**
 * Encodes `text`, cuts it into windows and batches them, as the book's
 * `create_dataloader_v1(txt, batch_size=4, max_length=256, stride=128, shuffle=True,
 * drop_last=True)` does.
 *
 * @param text The training text; must not be empty.
 * @param options Defaults: `batchSize` 4, `maxLength` 256, `stride` 128, `shuffle` true,
 *   `dropLast` true, `seed` 0, `rank` 0, `worldSize` 1, `tokenizer` `"gpt2"` (a `Tokenizer` or a
 *   registry name), `allowedSpecial` `["<|endoftext|>"]` when the tokenizer has it.
 * @returns The loader; its `dataset` holds the windows and the token ids.
 * @throws DatasetError for empty or too short text and bad options; the tokenizers' error for an
 *   unknown tokenizer name or a disallowed special token.
 *
 * @example
 * ```ts
 * const loader = createDataLoader(text, { maxLength: 4, stride: 4, batchSize: 8, shuffle: false });
 * const first = loader.nextBatch(); // inputs/targets: Int32Array [8 * 4]
 * ```
 */
export function createDataLoader(text: string, options: CreateDataLoaderOptions = {}): DataLoader {
  const { tokenizer, allowedSpecial, maxLength, stride, ...loaderOptions } = parseOptions(
    CreateDataLoaderOptionsSchema,
    options,
    "createDataLoader",
  );
  const resolved: Tokenizer = typeof tokenizer === "string" ? getTokenizer(tokenizer) : tokenizer;
  const dataset = GPTDataset.fromText(text, resolved, {
    maxLength,
    stride,
    ...(allowedSpecial === undefined ? {} : { allowedSpecial }),
  });
  return new DataLoader(dataset, loaderOptions);
}
