/**
 * The worker script of `ParallelEncoder` (`worker-pool.ts`): builds the tokenizer from its spec
 * (through the Node registry, so file-backed tokenizers load too) and encodes the chunks it is
 * sent, answering each with its ids as a transferred `Int32Array`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BpeTokenizer } from "./bpe-tokenizer.js";
import { createTiktokenTokenizer, isTiktokenEncoding, type TiktokenRankData } from "./tiktoken-encoding.js";
import type { EncodeOptions, Tokenizer, TokenizerSpec } from "./tokenizer.js";

/** A chunk to encode, or (with `texts`) several texts, each encoded on its own. */
export interface EncodeRequest {
  readonly id: number;
  readonly text: string;
  readonly texts?: readonly string[];
  readonly options: EncodeOptions | undefined;
}

/**
 * The answer to an `EncodeRequest`: ids (for `texts`, all texts' ids one after the other, and
 * `lengths` the count of each), or the message of the error the tokenizer threw.
 */
export type EncodeResponse =
  | { readonly id: number; readonly ids: Int32Array; readonly lengths?: Int32Array }
  | { readonly id: number; readonly error: string };

/** What the worker is started with. */
export interface EncodeWorkerData {
  readonly spec: TokenizerSpec;
}

const port = parentPort;
if (port === null) throw new Error("parallel-worker.js must run in a worker thread");

const { spec } = workerData as EncodeWorkerData;

/**
 * A tiktoken encoding is built from its own rank module only (the package entry would parse all
 * five); anything else goes through the Node entry, which registers every tokenizer ("bpe" with its
 * file reader included).
 */
async function buildTokenizer(): Promise<Tokenizer> {
  const noOptions = spec.options === undefined || Object.keys(spec.options).length === 0;
  if (noOptions && isTiktokenEncoding(spec.name)) {
    const ranks = (await import(`js-tiktoken/ranks/${spec.name}`)) as { default: TiktokenRankData };
    return createTiktokenTokenizer(spec.name, ranks.default);
  }
  await import("./node.js"); // every encoding, and "bpe" with its file reader
  const { getTokenizer } = await import("./registry.js");
  return getTokenizer(spec.name, spec.options);
}

const tokenizer = buildTokenizer();
// A failed load is reported with each request; keep the rejection from being "unhandled" meanwhile.
tokenizer.catch(() => undefined);

port.on("message", (request: EncodeRequest) => {
  tokenizer.then(
    (tok) => {
      const encode = (text: string): Int32Array =>
        tok instanceof BpeTokenizer ? tok.encodeToInt32(text, request.options) : new Int32Array(tok.encode(text, request.options));
      let ids: Int32Array;
      let lengths: Int32Array | undefined;
      try {
        if (request.texts === undefined) {
          ids = encode(request.text);
        } else {
          const parts = request.texts.map(encode);
          lengths = Int32Array.from(parts, (part) => part.length);
          ids = new Int32Array(lengths.reduce((sum, n) => sum + n, 0));
          let at = 0;
          for (const part of parts) {
            ids.set(part, at);
            at += part.length;
          }
        }
      } catch (error) {
        port.postMessage({ id: request.id, error: (error as Error).message } satisfies EncodeResponse);
        return;
      }
      const response = lengths === undefined ? { id: request.id, ids } : { id: request.id, ids, lengths };
      port.postMessage(response satisfies EncodeResponse, [ids.buffer as ArrayBuffer, ...(lengths === undefined ? [] : [lengths.buffer as ArrayBuffer])]);
    },
    (error: unknown) => {
      port.postMessage({ id: request.id, error: `cannot build tokenizer ${JSON.stringify(spec.name)} in a worker: ${(error as Error).message}` } satisfies EncodeResponse);
    },
  );
});
