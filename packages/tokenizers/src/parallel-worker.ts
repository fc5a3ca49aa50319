/**
 * The worker script of `ParallelEncoder` (`parallel.ts`): builds the tokenizer from its spec
 * (through the Node registry, so file-backed tokenizers load too) and encodes the chunks it is
 * sent, answering each with its ids as a transferred `Int32Array`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BpeTokenizer } from "./bpe-tokenizer.js";
import { createTiktokenTokenizer, isTiktokenEncoding, type TiktokenRankData } from "./tiktoken-encoding.js";
import type { EncodeOptions, Tokenizer, TokenizerSpec } from "./tokenizer.js";

/** A chunk to encode. */
export interface EncodeRequest {
  readonly id: number;
  readonly text: string;
  readonly options: EncodeOptions | undefined;
}

/** The answer to an `EncodeRequest`: ids, or the message of the error the tokenizer threw. */
export type EncodeResponse = { readonly id: number; readonly ids: Int32Array } | { readonly id: number; readonly error: string };

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
  const { getTokenizer } = await import("./node.js");
  return getTokenizer(spec.name, spec.options);
}

const tokenizer = buildTokenizer();
// A failed load is reported with each request; keep the rejection from being "unhandled" meanwhile.
tokenizer.catch(() => undefined);

port.on("message", (request: EncodeRequest) => {
  tokenizer.then(
    (tok) => {
      let ids: Int32Array;
      try {
        ids = tok instanceof BpeTokenizer ? tok.encodeToInt32(request.text, request.options) : new Int32Array(tok.encode(request.text, request.options));
      } catch (error) {
        port.postMessage({ id: request.id, error: (error as Error).message } satisfies EncodeResponse);
        return;
      }
      port.postMessage({ id: request.id, ids } satisfies EncodeResponse, [ids.buffer as ArrayBuffer]);
    },
    (error: unknown) => {
      port.postMessage({ id: request.id, error: `cannot build tokenizer ${JSON.stringify(spec.name)} in a worker: ${(error as Error).message}` } satisfies EncodeResponse);
    },
  );
});
