import { GEMV_KERNEL } from "./gemv-wasm.js";

/**
 * Batch-1 dense layers `x @ W + b` on our own WebAssembly SIMD kernel (assembly/gemv.ts), for
 * cached decoding on the CPU backends. tfjs-wasm runs a `[1, C] @ [C, N]` matmul through a
 * threaded XNNPACK operator: each call wakes its worker threads, and on a loaded machine that
 * wait costs more than the math (gpt2's 48 trunk matmuls a token ran ~3x slower on 2 threads
 * than on 1). The kernel runs on the calling thread, straight through each weight row.
 *
 * Weights are copied once into the kernel's own memory (`add`), rows padded to a multiple of 16.
 *
 * @example
 * const k = new GemvKernel();
 * const slot = k.add(kernelData, 768, 3072, biasData);
 * const y = k.run(slot, x); // Float32Array(3072)
 */
export class GemvKernel {
  private readonly memory: WebAssembly.Memory;
  private readonly gemv: (x: number, w: number, bias: number, out: number, k: number, n: number) => void;
  private readonly slots: { w: number; bias: number; k: number; n: number; stride: number }[] = [];
  /** Next free byte (64-byte aligned). */
  private top = 1024;
  private scratch = 0;
  private scratchFloats = 0;

  constructor() {
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    const instance = new WebAssembly.Instance(gemvModule(), { env: { memory: this.memory, abort: gemvAbort } });
    this.gemv = instance.exports.gemv as GemvKernel["gemv"];
  }

  /** Bytes of WebAssembly memory the kernel holds. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Copies a row-major `[k, n]` weight (and its `[n]` bias, or null) into the kernel's memory and
   * returns its slot for `run`.
   *
   * @throws RangeError when the memory cannot grow (more than 4 GiB of weights).
   */
  add(weight: Float32Array, k: number, n: number, bias: Float32Array | null): number {
    if (weight.length !== k * n) throw new RangeError(`GemvKernel.add: weight has ${weight.length} values, not ${k} x ${n}`);
    if (bias !== null && bias.length !== n) throw new RangeError(`GemvKernel.add: bias has ${bias.length} values, not ${n}`);
    const stride = Math.ceil(n / 16) * 16;
    const w = this.alloc(k * stride);
    const b = bias === null ? 0 : this.alloc(stride);
    const f = new Float32Array(this.memory.buffer);
    if (stride === n) f.set(weight, w / 4);
    else for (let i = 0; i < k; i++) f.set(weight.subarray(i * n, (i + 1) * n), w / 4 + i * stride);
    if (bias !== null) f.set(bias, b / 4);
    this.slots.push({ w, bias: b, k, n, stride });
    return this.slots.length - 1;
  }

  /**
   * Copies a row-major `[n, k]` table (an embedding table: one row per output) into the kernel's
   * memory as its transpose `[k, n]` (so `run` gives `x @ tableᵀ`, the tied head's logits), no bias.
   *
   * @throws RangeError when the memory cannot grow (more than 4 GiB of weights).
   */
  addTransposed(table: Float32Array, n: number, k: number): number {
    if (table.length !== k * n) throw new RangeError(`GemvKernel.addTransposed: table has ${table.length} values, not ${n} x ${k}`);
    const stride = Math.ceil(n / 16) * 16;
    const w = this.alloc(k * stride);
    const f = new Float32Array(this.memory.buffer);
    const at = w / 4;
    // 16 table rows at a time: reads stay within a few cache lines, writes are 64-byte runs.
    for (let r0 = 0; r0 < n; r0 += 16) {
      const r1 = Math.min(n, r0 + 16);
      for (let c = 0; c < k; c++) {
        const dst = at + c * stride;
        for (let r = r0; r < r1; r++) f[dst + r] = table[r * k + c] as number;
      }
    }
    this.slots.push({ w, bias: 0, k, n, stride });
    return this.slots.length - 1;
  }

  /**
   * Column `j` of slot `slot`'s `[k, n]` weight: `k` values. For a table added with
   * `addTransposed`, that is row `j` of the table (an embedding lookup without a second copy).
   */
  column(slot: number, j: number): Float32Array {
    const s = this.slots[slot];
    if (s === undefined) throw new RangeError(`GemvKernel.column: no slot ${slot}`);
    if (!Number.isInteger(j) || j < 0 || j >= s.n) throw new RangeError(`GemvKernel.column: column ${j} is not in [0, ${s.n})`);
    const f = new Float32Array(this.memory.buffer);
    const out = new Float32Array(s.k);
    for (let c = 0, at = s.w / 4 + j; c < s.k; c++, at += s.stride) out[c] = f[at] as number;
    return out;
  }

  /** `x @ W + b` of slot `slot` for one row `x` (`[k]`): a new `Float32Array` of `n` values. */
  run(slot: number, x: Float32Array): Float32Array {
    const s = this.slots[slot];
    if (s === undefined) throw new RangeError(`GemvKernel.run: no slot ${slot}`);
    if (x.length !== s.k) throw new RangeError(`GemvKernel.run: x has ${x.length} values, not ${s.k}`);
    const xFloats = Math.ceil(s.k / 16) * 16;
    if (this.scratchFloats < xFloats + s.stride) {
      this.scratchFloats = xFloats + s.stride;
      this.scratch = this.alloc(this.scratchFloats);
    }
    const xAt = this.scratch;
    const outAt = this.scratch + xFloats * 4;
    new Float32Array(this.memory.buffer, xAt, s.k).set(x);
    this.gemv(xAt, s.w, s.bias, outAt, s.k, s.stride);
    return new Float32Array(this.memory.buffer, outAt, s.n).slice();
  }

  /** Reserves `floats` 4-byte values (64-byte aligned), growing the memory as needed. */
  private alloc(floats: number): number {
    const at = this.top;
    const end = at + Math.ceil((floats * 4) / 64) * 64;
    const need = end - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / 65536));
    this.top = end;
    return at;
  }
}

let compiled: WebAssembly.Module | null = null;

function gemvModule(): WebAssembly.Module {
  if (compiled === null) {
    const bytes = atob(GEMV_KERNEL);
    const binary = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) binary[i] = bytes.charCodeAt(i);
    compiled = new WebAssembly.Module(binary);
  }
  return compiled;
}

function gemvAbort(): never {
  throw new Error("gemv kernel aborted");
}
