/**
 * The one error type of `@tfgpt/datasets`. Messages name the option or input at fault, the value
 * received and what is allowed, e.g. `` `stride` must be a positive integer, received 0 ``.
 *
 * @example
 * ```ts
 * try {
 *   new GPTDataset(ids, { maxLength: 4, stride: 0 });
 * } catch (e) {
 *   if (e instanceof DatasetError) console.error(e.option, e.message); // "stride", "`stride` must be ..."
 * }
 * ```
 */
export class DatasetError extends Error {
  /** The option or argument at fault, when there is one (e.g. `"stride"`, `"ids"`, `"text"`). */
  readonly option: string | undefined;

  /**
   * @param message What is wrong: the option, the value received and what is allowed.
   * @param option The option or argument at fault (default: none).
   */
  constructor(message: string, option?: string) {
    super(message);
    this.name = "DatasetError";
    this.option = option;
  }
}

/** Renders a received value for an error message: strings quoted, arrays and objects as (cut) JSON. */
export { describeValue } from "@tfgpt/common";
