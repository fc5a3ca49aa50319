import { TokenizerError } from "./errors.js";
import { assertNoDisallowedSpecial, resolveSpecialTokens, specialTokenRegExp, splitOnSpecialTokens } from "./special-tokens.js";
import type { EncodeOptions, Tokenizer, TokenizerSpec } from "./tokenizer.js";

/** Id of `<|endoftext|>` in the byte tokenizer (after the 256 byte values). */
export const BYTE_END_OF_TEXT = 256;

/**
 * Ids are the UTF-8 bytes of the text (0..255), plus `<|endoftext|>` = 256; vocabSize 257. No
 * training, no unknown tokens: a baseline and a tokenizer for tiny models. Lone surrogates encode
 * as U+FFFD (as `TextEncoder` does); decode turns invalid UTF-8 into U+FFFD.
 *
 * @example
 * ```ts
 * const tok = getTokenizer("byte");
 * tok.encode("hé"); // [104, 195, 169]
 * ```
 */
export class ByteTokenizer implements Tokenizer {
  readonly name = "byte";
  readonly vocabSize = 257;
  readonly specialTokens: ReadonlyMap<string, number> = new Map([["<|endoftext|>", BYTE_END_OF_TEXT]]);
  readonly spec: TokenizerSpec = { name: "byte" };
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  private readonly specialRegExp = specialTokenRegExp(["<|endoftext|>"]);

  encode(text: string, options?: EncodeOptions): number[] {
    const policy = resolveSpecialTokens(options, this.specialTokens, this.name);
    assertNoDisallowedSpecial(text, policy.disallowed, this.name);
    const out: number[] = [];
    splitOnSpecialTokens(
      text,
      this.specialRegExp,
      policy.allowed,
      (start, end) => {
        for (const byte of this.encoder.encode(text.substring(start, end))) out.push(byte);
      },
      () => out.push(BYTE_END_OF_TEXT),
    );
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let text = "";
    let bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (!Number.isInteger(id) || id < 0 || id > BYTE_END_OF_TEXT) {
        throw new TokenizerError(`\`ids[${i}]\` must be an integer in [0, 257) (vocabSize 257), received ${id}`, "ids");
      }
      if (id === BYTE_END_OF_TEXT) {
        text += this.decoder.decode(new Uint8Array(bytes)) + "<|endoftext|>";
        bytes = [];
      } else {
        bytes.push(id);
      }
    }
    return text + this.decoder.decode(new Uint8Array(bytes));
  }
}
