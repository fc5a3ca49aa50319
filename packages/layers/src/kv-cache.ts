/**
 * Incremental decoding of a `createGPT` model with a per-layer key/value cache: each new token
 * runs through the blocks at one position, attending to the keys and values kept from the
 * earlier positions, and only the last position goes through `ln_f` and the head.
 */
import * as tf from "@tensorflow/tfjs";
import { LayerConfigError } from "./errors.js";
import { gelu } from "./functional.js";
import { GemvKernel } from "./gemv.js";
import type { GPTConfig } from "./gpt.js";
import { LORA_KERNELS } from "./lora-linear.js";
import { gptConfigOfModel, weightsByPath } from "./pretrained.js";
import { TransformerBlock } from "./transformer-block.js";

/** The weights one block reads (tensors owned by the model's variables). */
interface BlockWeights {
  ln1Gamma: tf.Tensor1D;
  ln1Beta: tf.Tensor1D;
  qkvKernel: tf.Tensor2D;
  qkvBias: tf.Tensor1D | null;
  attnProjKernel: tf.Tensor2D;
  attnProjBias: tf.Tensor1D;
  ln2Gamma: tf.Tensor1D;
  ln2Beta: tf.Tensor1D;
  fcKernel: tf.Tensor2D;
  fcBias: tf.Tensor1D;
  mlpProjKernel: tf.Tensor2D;
  mlpProjBias: tf.Tensor1D;
  /** LoRA adapters by kernel path (`attn/c_attn`, ...): `A`, `B` and `alpha / r`. */
  lora: Map<string, { a: tf.Tensor2D; b: tf.Tensor2D; scale: number }>;
}

/** Whether `model` is a `createGPT` GPT that `KVCacheDecoder` can run (else `generate` re-runs the window). */
export function supportsKVCache(model: tf.LayersModel): boolean {
  try {
    gptConfigOfModel(model);
    return true;
  } catch {
    return false;
  }
}

/**
 * A decoding session over one `createGPT` model: `step(ids)` runs `ids` at the next positions,
 * appends their keys and values to the cache (`[heads, length, headDim]` each, per layer; they
 * stay on the backend) and returns the logits of the last of them. Call `dispose()` when done.
 *
 * @example
 * const decoder = new KVCacheDecoder(model);
 * let logits = decoder.step(promptIds); // [vocabSize]
 * logits = decoder.step([nextId]);      // one position
 * decoder.dispose();
 */
export class KVCacheDecoder {
  readonly config: GPTConfig;
  private readonly weights: Map<string, tf.LayerVariable>;
  /** `alpha / r` of each block's LoRA adapters (0 without). */
  private readonly loraScales: number[];
  private keys: (tf.Tensor3D | null)[];
  private values: (tf.Tensor3D | null)[];
  private cached = 0;
  /** Positions held in `keys`/`values` (the one-row host steps leave them behind). */
  private tensorLength = 0;
  /**
   * The cache of the one-row host steps (`hostStep`), per layer `[H, capacity, hd]` in plain
   * arrays; `hostLength` positions are current (fewer than `length` after a tfjs step).
   */
  private hostKeys: Float32Array[] = [];
  private hostValues: Float32Array[] = [];
  private hostCapacity = 0;
  private hostLength = 0;
  /** The head's table transposed to `[C, V]` (made on the first step, kept for the session). */
  private headT: tf.Tensor2D | null = null;
  /**
   * The trunk's dense layers and the head on the batch-1 kernel (`GemvKernel`), looked up on the
   * first step on the CPU backends (slots per layer: qkv, attention proj, fc, mlp proj); null
   * elsewhere. One-position steps without LoRA adapters then run wholly on the host (`hostStep`).
   */
  private gemv: TrunkKernel | null = null;
  private gemvTried = false;

  constructor(private readonly model: tf.LayersModel) {
    this.config = gptConfigOfModel(model);
    this.weights = weightsByPath(model);
    this.loraScales = model.layers.filter((l): l is TransformerBlock => l instanceof TransformerBlock).map((b) => (b.lora === null ? 0 : b.lora.alpha / b.lora.rank));
    this.keys = new Array<tf.Tensor3D | null>(this.config.numLayers).fill(null);
    this.values = new Array<tf.Tensor3D | null>(this.config.numLayers).fill(null);
  }

  /** Positions held in the cache. */
  get length(): number {
    return this.cached;
  }

  /** Empties the cache (the next `step` starts at position 0). */
  reset(): void {
    tf.dispose([...this.keys, ...this.values].filter((t): t is tf.Tensor3D => t !== null));
    this.keys.fill(null);
    this.values.fill(null);
    this.cached = 0;
    this.tensorLength = 0;
    this.hostLength = 0;
  }

  /** Frees the cache and the transposed head table. */
  dispose(): void {
    this.reset();
    this.headT?.dispose();
    this.headT = null;
    this.gemv = null;
    this.gemvTried = false;
    this.hostKeys = [];
    this.hostValues = [];
    this.hostCapacity = 0;
  }

  /** The batch-1 kernel of the trunk and head (`trunkKernelOf`), looked up on the session's first step. */
  private trunkKernel(): TrunkKernel | null {
    if (!this.gemvTried) {
      this.gemvTried = true;
      this.gemv = trunkKernelOf(this.model, this.config, this.weights);
    }
    return this.gemv;
  }

  /**
   * Runs `ids` at positions `length .. length + ids.length - 1` and returns the logits `[vocabSize]`
   * of the last one (a tensor the caller disposes).
   *
   * @throws LayerConfigError when the positions would pass the model's context length or an id is out of range.
   */
  step(ids: readonly number[]): tf.Tensor1D {
    const c = this.config;
    const n = ids.length;
    const start = this.cached;
    if (n === 0) throw new LayerConfigError("KVCacheDecoder.step: `ids` must hold at least one id", "ids");
    if (start + n > c.contextLength) {
      throw new LayerConfigError(`KVCacheDecoder.step: positions up to ${start + n} pass the context length ${c.contextLength}; reset() first`, "ids");
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new LayerConfigError(`token id ${id} is out of range: ids must be in [0, ${c.vocabSize})`, "ids");
    }
    const weights = this.weights;
    const read = <T extends tf.Tensor>(p: string) => {
      const v = weights.get(p);
      if (v === undefined) throw new Error(`unreachable: no weight ${p}`);
      return v.read() as T;
    };
    const C = c.embeddingDim;
    const H = c.numHeads;
    const hd = C / H;
    const kernel = this.trunkKernel();
    if (n === 1 && kernel !== null && this.loraScales.every((s) => s === 0)) return tf.tensor1d(this.hostStep(kernel, ids[0] as number));
    this.syncTensors();
    const trunk = n === 1 ? kernel : null;
    const newKeys: tf.Tensor3D[] = [];
    const newValues: tf.Tensor3D[] = [];
    const logits = tf.tidy(() => {
      const wte = read<tf.Tensor2D>("wte/embeddings");
      const wpe = read<tf.Tensor2D>("wpe/embeddings");
      let x = tf.add(tf.gather(wte, tf.tensor1d(ids as number[], "int32")), tf.slice(wpe, [start, 0], [n, C])) as tf.Tensor2D; // [n, C]
      const mask = n === 1 ? null : causalMaskAt(start, n); // [n, total]
      for (let i = 0; i < c.numLayers; i++) {
        const w = blockWeights(read, i, c.qkvBias, weights, this.loraScales[i] ?? 0);
        const slots = trunk?.slots[i];
        // One row: the batch-1 kernel (same math, its own summation order), plus a LoRA adapter's
        // term where the block has one; else tfjs's matmuls.
        const fc = (x1: tf.Tensor2D, j: number, kernel: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D => {
          const lora = w.lora.get(LORA_KERNELS[j] as string); // LORA_KERNELS is also the slots' order
          if (trunk === null || slots === undefined) return adapted(x1, kernel, bias, lora);
          const out = trunk.kernel.run(slots[j] as number, x1.dataSync() as Float32Array);
          const y = tf.tensor2d(out, [1, out.length]);
          return lora === undefined ? y : (tf.add(y, tf.matMul(tf.mul(tf.matMul(x1, lora.a), lora.scale) as tf.Tensor2D, lora.b)) as tf.Tensor2D);
        };
        const a = rowNorm(x, w.ln1Gamma, w.ln1Beta);
        const qkv = fc(a, 0, w.qkvKernel, w.qkvBias); // [n, 3C]
        const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        // [n, C] -> [H, n, hd] (n = 1: a reshape).
        const heads = (t: tf.Tensor2D) => (n === 1 ? tf.reshape(t, [H, 1, hd]) : tf.transpose(tf.reshape(t, [n, H, hd]), [1, 0, 2])) as tf.Tensor3D;
        const prevK = this.keys[i] ?? null;
        const prevV = this.values[i] ?? null;
        // Appended along axis 1 (a middle-axis concat of the last axis costs ~40x more on wasm).
        const allKeys = prevK === null ? heads(k) : (tf.concat([prevK, heads(k)], 1) as tf.Tensor3D); // [H, total, hd]
        const allValues = prevV === null ? heads(v) : (tf.concat([prevV, heads(v)], 1) as tf.Tensor3D); // [H, total, hd]
        newKeys.push(tf.keep(allKeys));
        newValues.push(tf.keep(allValues));
        let scores = tf.matMul(tf.mul(heads(q), 1 / Math.sqrt(hd)) as tf.Tensor3D, allKeys, false, true); // [H, n, total]
        if (mask !== null) scores = tf.add(scores, mask);
        const y = tf.matMul(tf.softmax(scores) as tf.Tensor3D, allValues); // [H, n, hd]
        const merged = (n === 1 ? tf.reshape(y, [1, C]) : tf.reshape(tf.transpose(y, [1, 0, 2]), [n, C])) as tf.Tensor2D;
        x = tf.add(x, fc(merged, 1, w.attnProjKernel, w.attnProjBias));
        const m = rowNorm(x, w.ln2Gamma, w.ln2Beta);
        x = tf.add(x, fc(gelu(fc(m, 2, w.fcKernel, w.fcBias)) as tf.Tensor2D, 3, w.mlpProjKernel, w.mlpProjBias));
      }
      const last = n === 1 ? x : (tf.slice(x, [n - 1, 0], [1, C]) as tf.Tensor2D);
      const h = rowNorm(last, read<tf.Tensor1D>("ln_f/gamma"), read<tf.Tensor1D>("ln_f/beta"));
      if (kernel !== null) return tf.tensor1d(kernel.kernel.run(kernel.head, h.dataSync() as Float32Array));
      if (this.headT === null) {
        // A plain [1, C] @ [C, V] matmul runs ~3x faster on wasm than one with transposeB.
        const table = c.tieWeights ? wte : read<tf.Tensor2D>("lm_head/embeddings");
        this.headT = tf.keep(tf.transpose(table));
      }
      return tf.reshape(tf.matMul(h, this.headT), [c.vocabSize]) as tf.Tensor1D; // [V]
    });
    this.reset();
    this.keys = newKeys;
    this.values = newValues;
    this.cached = start + n;
    this.tensorLength = start + n;
    return logits;
  }

  /** Makes `keys`/`values` current after host steps (the tfjs path reads them). */
  private syncTensors(): void {
    if (this.tensorLength === this.cached) return;
    const c = this.config;
    const H = c.numHeads;
    const hd = c.embeddingDim / H;
    const T = this.cached;
    const cap = this.hostCapacity;
    const pack = (host: Float32Array) => {
      const out = new Float32Array(H * T * hd);
      for (let h = 0; h < H; h++) out.set(host.subarray(h * cap * hd, (h * cap + T) * hd), h * T * hd);
      return tf.tensor3d(out, [H, T, hd]);
    };
    tf.dispose([...this.keys, ...this.values].filter((t): t is tf.Tensor3D => t !== null));
    this.keys = this.hostKeys.map(pack);
    this.values = this.hostValues.map(pack);
    this.tensorLength = T;
  }

  /** Makes the host cache current (after tfjs steps) with room for `need` positions. */
  private syncHost(need: number): void {
    const c = this.config;
    const H = c.numHeads;
    const hd = c.embeddingDim / H;
    if (need > this.hostCapacity) {
      const cap = Math.min(c.contextLength, Math.max(need, 2 * this.hostCapacity, 64));
      const grow = (old: Float32Array | undefined) => {
        const out = new Float32Array(H * cap * hd);
        if (old !== undefined && this.hostLength > 0) {
          for (let h = 0; h < H; h++) out.set(old.subarray(h * this.hostCapacity * hd, (h * this.hostCapacity + this.hostLength) * hd), h * cap * hd);
        }
        return out;
      };
      this.hostKeys = Array.from({ length: c.numLayers }, (_, i) => grow(this.hostKeys[i]));
      this.hostValues = Array.from({ length: c.numLayers }, (_, i) => grow(this.hostValues[i]));
      this.hostCapacity = cap;
    }
    if (this.hostLength === this.cached) return;
    // The tensors hold every position (`tensorLength === length`): copy them in.
    const T = this.cached;
    const cap = this.hostCapacity;
    const unpack = (t: tf.Tensor3D | null, host: Float32Array) => {
      if (t === null) return;
      const data = t.dataSync() as Float32Array;
      for (let h = 0; h < H; h++) host.set(data.subarray(h * T * hd, (h + 1) * T * hd), h * cap * hd);
    };
    for (let i = 0; i < c.numLayers; i++) {
      unpack(this.keys[i] ?? null, this.hostKeys[i] as Float32Array);
      unpack(this.values[i] ?? null, this.hostValues[i] as Float32Array);
    }
    this.hostLength = T;
  }

  /**
   * One position on the host: the dense layers and the head on the batch-1 kernel, LayerNorm,
   * attention over the host cache and GELU in plain loops (a row of each is a few thousand values:
   * ~20 tfjs ops a layer cost more than their math). Returns the logits `[vocabSize]`.
   */
  private hostStep(trunk: TrunkKernel, id: number): Float32Array {
    const c = this.config;
    const C = c.embeddingDim;
    const H = c.numHeads;
    const hd = C / H;
    const pos = this.cached;
    this.syncHost(pos + 1);
    const cap = this.hostCapacity;
    const kernel = trunk.kernel;
    const weights = this.weights;
    const read = (p: string) => {
      const v = weights.get(p);
      if (v === undefined) throw new Error(`unreachable: no weight ${p}`);
      return v.read();
    };
    let x: Float32Array;
    if (trunk.positions !== null) {
      // The token's row of the tied table (the head slot's column) plus its position's row: the
      // float32 sum tfjs's add gives (a double sum of two floats, rounded once, is exact).
      x = kernel.column(trunk.head, id);
      const at = pos * C;
      for (let j = 0; j < C; j++) x[j] = (x[j] as number) + (trunk.positions[at + j] as number);
    } else {
      const embedded = tf.tidy(() => tf.add(tf.gather(read("wte/embeddings"), tf.tensor1d([id], "int32")), tf.slice(read("wpe/embeddings"), [pos, 0], [1, C])));
      x = Float32Array.from(embedded.dataSync() as Float32Array);
      embedded.dispose();
    }
    const scale = 1 / Math.sqrt(hd);
    const q = new Float32Array(C);
    const y = new Float32Array(C);
    const scores = new Float64Array(pos + 1);
    for (let i = 0; i < c.numLayers; i++) {
      const slots = trunk.slots[i] as number[];
      const norms = trunk.norms[i] as Float32Array[];
      const qkv = kernel.run(slots[0] as number, hostNorm(x, norms[0] as Float32Array, norms[1] as Float32Array));
      const keys = this.hostKeys[i] as Float32Array;
      const values = this.hostValues[i] as Float32Array;
      for (let h = 0; h < H; h++) {
        const at = (h * cap + pos) * hd;
        keys.set(qkv.subarray(C + h * hd, C + (h + 1) * hd), at);
        values.set(qkv.subarray(2 * C + h * hd, 2 * C + (h + 1) * hd), at);
      }
      for (let j = 0; j < C; j++) q[j] = Math.fround((qkv[j] as number) * scale);
      for (let h = 0; h < H; h++) {
        const qh = h * hd;
        const base = h * cap * hd;
        let max = -Infinity;
        for (let t = 0; t <= pos; t++) {
          const kt = base + t * hd;
          let s = 0;
          for (let d = 0; d < hd; d++) s += (q[qh + d] as number) * (keys[kt + d] as number);
          scores[t] = s;
          if (s > max) max = s;
        }
        let total = 0;
        for (let t = 0; t <= pos; t++) {
          const e = Math.exp((scores[t] as number) - max);
          scores[t] = e;
          total += e;
        }
        for (let d = 0; d < hd; d++) {
          let s = 0;
          for (let t = 0; t <= pos; t++) s += (scores[t] as number) * (values[base + t * hd + d] as number);
          y[qh + d] = s / total;
        }
      }
      const attn = kernel.run(slots[1] as number, y);
      for (let j = 0; j < C; j++) x[j] = (x[j] as number) + (attn[j] as number);
      const f = kernel.run(slots[2] as number, hostNorm(x, norms[2] as Float32Array, norms[3] as Float32Array));
      for (let j = 0; j < f.length; j++) {
        const v = f[j] as number;
        f[j] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
      }
      const mlp = kernel.run(slots[3] as number, f);
      for (let j = 0; j < C; j++) x[j] = (x[j] as number) + (mlp[j] as number);
    }
    const logits = kernel.run(trunk.head, hostNorm(x, trunk.finalNorm[0], trunk.finalNorm[1]));
    this.cached = pos + 1;
    this.hostLength = pos + 1;
    return logits;
  }
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** LayerNorm (epsilon 1e-5) of one row, accumulated in float64. */
function hostNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array): Float32Array {
  const C = x.length;
  let mean = 0;
  for (let j = 0; j < C; j++) mean += x[j] as number;
  mean /= C;
  let variance = 0;
  for (let j = 0; j < C; j++) {
    const d = (x[j] as number) - mean;
    variance += d * d;
  }
  const inv = 1 / Math.sqrt(variance / C + 1e-5);
  const out = new Float32Array(C);
  for (let j = 0; j < C; j++) out[j] = ((x[j] as number) - mean) * inv * (gamma[j] as number) + (beta[j] as number);
  return out;
}

/** The trunk's dense weights in a `GemvKernel`: slots per layer (qkv, attention proj, fc, mlp proj). */
interface TrunkKernel {
  kernel: GemvKernel;
  slots: number[][];
  /** The head: `x @ tableᵀ` (the tied embedding table or `lm_head`'s). */
  head: number;
  /** Per layer: ln_1 gamma, beta, ln_2 gamma, beta (host copies). */
  norms: Float32Array[][];
  /** ln_f gamma, beta. */
  finalNorm: [Float32Array, Float32Array];
  /**
   * The position table `[contextLength, C]` (host copy) when the head is the tied token table:
   * then a one-row step looks its token up in the kernel's head slot (`column`) and needs no tfjs
   * op at all (each one wakes tfjs-wasm's thread pool); null otherwise.
   */
  positions: Float32Array | null;
  /** The data ids the weights were copied from (a weight assigned since has a new one). */
  sources: object[];
}

/** Per model, kept while the model lives: later sessions reuse the copy while the weights are unchanged. */
const trunkKernels = new WeakMap<tf.LayersModel, TrunkKernel>();

/** The dense weights of the trunk, in the order `TrunkKernel` holds them. */
function trunkWeightPaths(c: GPTConfig): { kernel: string; bias: string | null; k: number; n: number }[] {
  const C = c.embeddingDim;
  const out: { kernel: string; bias: string | null; k: number; n: number }[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `h${i}/`;
    out.push(
      { kernel: `${p}attn/c_attn/kernel`, bias: c.qkvBias ? `${p}attn/c_attn/bias` : null, k: C, n: 3 * C },
      { kernel: `${p}attn/c_proj/kernel`, bias: `${p}attn/c_proj/bias`, k: C, n: C },
      { kernel: `${p}mlp/c_fc/kernel`, bias: `${p}mlp/c_fc/bias`, k: C, n: 4 * C },
      { kernel: `${p}mlp/c_proj/kernel`, bias: `${p}mlp/c_proj/bias`, k: 4 * C, n: C },
    );
  }
  return out;
}

/**
 * The batch-1 kernel with the trunk's weights copied in, on the `wasm` and `cpu` backends (where
 * a one-row tfjs matmul costs more than its math: see `GemvKernel`); reused across sessions of a
 * model while its weights keep their data; null on other backends or when the kernel's memory
 * cannot grow (the caller keeps tfjs's matmuls).
 */
function trunkKernelOf(model: tf.LayersModel, c: GPTConfig, weights: Map<string, tf.LayerVariable>): TrunkKernel | null {
  const backend = tf.getBackend();
  if (backend !== "wasm" && backend !== "cpu") return null;
  const paths = trunkWeightPaths(c);
  const tensor = (p: string) => {
    const v = weights.get(p);
    if (v === undefined) throw new Error(`unreachable: no weight ${p}`);
    return v.read();
  };
  const normPaths = Array.from({ length: c.numLayers }, (_, i) => [`h${i}/ln_1/gamma`, `h${i}/ln_1/beta`, `h${i}/ln_2/gamma`, `h${i}/ln_2/beta`]);
  const headPath = c.tieWeights ? "wte/embeddings" : "lm_head/embeddings";
  const hostPositions = c.tieWeights && weights.has("wpe/embeddings");
  const others = [...normPaths.flat(), "ln_f/gamma", "ln_f/beta", headPath, ...(hostPositions ? ["wpe/embeddings"] : [])];
  const sources = [...paths.flatMap((w) => (w.bias === null ? [tensor(w.kernel)] : [tensor(w.kernel), tensor(w.bias)])), ...others.map(tensor)].map((t) => t.dataId);
  const known = trunkKernels.get(model);
  if (known !== undefined && known.sources.length === sources.length && known.sources.every((d, i) => d === sources[i])) return known;
  trunkKernels.delete(model);
  try {
    const kernel = new GemvKernel();
    const flat = paths.map((w) => kernel.add(tensor(w.kernel).dataSync() as Float32Array, w.k, w.n, w.bias === null ? null : (tensor(w.bias).dataSync() as Float32Array)));
    const slots: number[][] = [];
    for (let i = 0; i < c.numLayers; i++) slots.push(flat.slice(4 * i, 4 * i + 4));
    const head = kernel.addTransposed(tensor(headPath).dataSync() as Float32Array, c.vocabSize, c.embeddingDim);
    const host = (p: string) => Float32Array.from(tensor(p).dataSync() as Float32Array);
    const norms = normPaths.map((ps) => ps.map(host));
    const positions = hostPositions ? host("wpe/embeddings") : null;
    const made: TrunkKernel = { kernel, slots, head, norms, finalNorm: [host("ln_f/gamma"), host("ln_f/beta")], positions, sources };
    trunkKernels.set(model, made);
    return made;
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return null;
  }
}

/**
 * LayerNorm (epsilon 1e-5) of a few rows `[n, C]`, as plain ops: `layerNorm` of functional.ts is
 * built for many rows (its transposes cost more than the math for one row).
 */
function rowNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta) as tf.Tensor2D;
}

/** `x @ kernel + bias`, plus `scale (x @ A) @ B` with a LoRA adapter. */
function adapted(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D | null, lora?: { a: tf.Tensor2D; b: tf.Tensor2D; scale: number }): tf.Tensor2D {
  const y = (bias === null ? tf.matMul(x, kernel) : tf.fused.matMul({ a: x, b: kernel, bias })) as tf.Tensor2D;
  return lora === undefined ? y : (tf.add(y, tf.matMul(tf.mul(tf.matMul(x, lora.a), lora.scale) as tf.Tensor2D, lora.b)) as tf.Tensor2D);
}

function blockWeights(
  read: <T extends tf.Tensor>(p: string) => T,
  i: number,
  qkvBias: boolean,
  all: Map<string, tf.LayerVariable>,
  loraScale: number,
): BlockWeights {
  const p = `h${i}/`;
  const lora = new Map<string, { a: tf.Tensor2D; b: tf.Tensor2D; scale: number }>();
  if (loraScale > 0) {
    for (const kernel of LORA_KERNELS) {
      const a = all.get(`${p}${kernel}/lora_a`);
      const b = all.get(`${p}${kernel}/lora_b`);
      if (a !== undefined && b !== undefined) lora.set(kernel, { a: a.read() as tf.Tensor2D, b: b.read() as tf.Tensor2D, scale: loraScale });
    }
  }
  return {
    lora,
    ln1Gamma: read<tf.Tensor1D>(`${p}ln_1/gamma`),
    ln1Beta: read<tf.Tensor1D>(`${p}ln_1/beta`),
    qkvKernel: read<tf.Tensor2D>(`${p}attn/c_attn/kernel`),
    qkvBias: qkvBias ? read<tf.Tensor1D>(`${p}attn/c_attn/bias`) : null,
    attnProjKernel: read<tf.Tensor2D>(`${p}attn/c_proj/kernel`),
    attnProjBias: read<tf.Tensor1D>(`${p}attn/c_proj/bias`),
    ln2Gamma: read<tf.Tensor1D>(`${p}ln_2/gamma`),
    ln2Beta: read<tf.Tensor1D>(`${p}ln_2/beta`),
    fcKernel: read<tf.Tensor2D>(`${p}mlp/c_fc/kernel`),
    fcBias: read<tf.Tensor1D>(`${p}mlp/c_fc/bias`),
    mlpProjKernel: read<tf.Tensor2D>(`${p}mlp/c_proj/kernel`),
    mlpProjBias: read<tf.Tensor1D>(`${p}mlp/c_proj/bias`),
  };
}

/** `[n, start + n]` additive mask for queries at positions `start .. start + n - 1`. */
function causalMaskAt(start: number, n: number): tf.Tensor2D {
  const total = start + n;
  const data = new Float32Array(n * total);
  for (let i = 0; i < n; i++) for (let j = start + i + 1; j < total; j++) data[i * total + j] = -1e9;
  return tf.tensor2d(data, [n, total]);
}
