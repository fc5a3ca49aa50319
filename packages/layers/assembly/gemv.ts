// Batch-1 dense layer for cached decoding (AssemblyScript -> WebAssembly SIMD).
// Built by `node scripts/build-wasm.mjs` into src/gemv-wasm.ts; driven by src/gemv.ts.
//
// out[j] = bias[j] + sum_k x[k] * w[k * n + j] for a row-major [k, n] weight, kept in this
// module's memory in its original layout (no packing): each row of the weight is read once,
// contiguously, and accumulated into `out` (n floats, held in cache). One thread, no
// synchronisation: the per-call cost of a threaded matmul is what it replaces. The JavaScript
// side owns the memory layout and passes byte offsets; n is a multiple of 16.

/** out = bias + x @ w: `x` [k], `w` [k, n] row-major, `bias` [n] (or 0 for none), `out` [n]. */
export function gemv(x: usize, w: usize, bias: usize, out: usize, k: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  if (bias != 0) memory.copy(out, bias, rowBytes);
  else memory.fill(out, 0, rowBytes);
  let r = w;
  for (let i = 0; i < k; i++) {
    const a = f32x4.splat(load<f32>(x + (<usize>i << 2)));
    for (let j: usize = 0; j < rowBytes; j += 64) {
      const o = out + j;
      const s = r + j;
      v128.store(o, f32x4.add(v128.load(o), f32x4.mul(a, v128.load(s))));
      v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(a, v128.load(s, 16))), 16);
      v128.store(o, f32x4.add(v128.load(o, 32), f32x4.mul(a, v128.load(s, 32))), 32);
      v128.store(o, f32x4.add(v128.load(o, 48), f32x4.mul(a, v128.load(s, 48))), 48);
    }
    r += rowBytes;
  }
}
