/**
 * The one error type of `@tfgpt/tokenizers`. Messages name the option or input at fault, the
 * value received and what is allowed, e.g.
 * `` `allowedSpecial` contains "<|foo|>", which is not a special token of gpt2 (known: <|endoftext|>) ``.
 */
export class TokenizerError extends Error {
  /** The option or argument at fault, when there is one (e.g. `"ids"`, `"allowedSpecial"`). */
  readonly option: string | undefined;

  constructor(message: string, option?: string) {
    super(message);
    this.name = "TokenizerError";
    this.option = option;
  }
}
