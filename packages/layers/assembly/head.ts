// The vocabulary head + cross-entropy kernels (AssemblyScript -> WebAssembly SIMD).
// Built by `node scripts/build-wasm.mjs` into src/head-kernel-wasm.ts; driven by src/head-kernel.ts.
//
// Every function works on one tile: `vb` rows of the `[V, C]` table by `np` tokens (a block of
// rows; np and `dim` multiples of 8, vb a multiple of 4). Logits are kept transposed,
// `st[v * np + r]` (`[vb, np]`), so that per-token reductions (max, sum, softmax) are vectorised
// over tokens and every matmul below splats a scalar and streams contiguous rows: no transposes,
// no packing, nothing `[N, V]`-sized in memory. The JavaScript side owns the memory layout and
// passes byte offsets.

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const MAGIC: f32 = 12582912.0; // 1.5 * 2^23

/**
 * exp of 4 lanes (Cephes' expf polynomial, ~1 ulp) for inputs <= ~0 (every caller subtracts a
 * maximum or the log-sum-exp first); inputs below -87.3 give ~1.2e-38, not 0. Rounding to the
 * nearest integer and building 2^n both go through the float "magic number" 1.5 * 2^23: its sum
 * with t holds round(t) in its low mantissa bits, which shifted by 23 become the exponent of 2^n
 * (no `nearest`, no saturating float-to-int conversion, which x64 has no single instruction for).
 */
// @ts-ignore: decorator
@inline function vexp(x0: v128): v128 {
  const x = f32x4.max(x0, f32x4.splat(-87.33654));
  const tm = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(MAGIC));
  const fx = f32x4.sub(tm, f32x4.splat(MAGIC));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(LN2_LO)));
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  const pow2n = i32x4.shl(i32x4.add(tm, i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

/**
 * `st[v, r] = sum_c w[v, c] * hT[c, r]` for the tile: `[vb, C] @ [C, np]`, 4 x 8 blocks. `hT` is
 * `[C, ldh]` (all tokens transposed; the pointer is at the block's first token).
 */
export function logitsTile(w: usize, hT: usize, st: usize, vb: i32, np: i32, ldh: i32, dim: i32): void {
  const rowBytes = <usize>np << 2;
  const hRow = <usize>ldh << 2;
  const wRow = <usize>dim << 2;
  for (let v = 0; v < vb; v += 4) {
    const w0 = w + <usize>v * wRow;
    for (let r = 0; r < np; r += 8) {
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
      let b = hT + (<usize>r << 2);
      let wp = w0;
      for (let c = 0; c < dim; c++) {
        const b0 = v128.load(b), b1 = v128.load(b, 16);
        const s0 = v128.load32_splat(wp);
        const s1 = v128.load32_splat(wp + wRow);
        const s2 = v128.load32_splat(wp + 2 * wRow);
        const s3 = v128.load32_splat(wp + 3 * wRow);
        a00 = f32x4.add(a00, f32x4.mul(s0, b0)); a01 = f32x4.add(a01, f32x4.mul(s0, b1));
        a10 = f32x4.add(a10, f32x4.mul(s1, b0)); a11 = f32x4.add(a11, f32x4.mul(s1, b1));
        a20 = f32x4.add(a20, f32x4.mul(s2, b0)); a21 = f32x4.add(a21, f32x4.mul(s2, b1));
        a30 = f32x4.add(a30, f32x4.mul(s3, b0)); a31 = f32x4.add(a31, f32x4.mul(s3, b1));
        b += hRow;
        wp += 4;
      }
      const o = st + (<usize>v * rowBytes) + (<usize>r << 2);
      v128.store(o, a00); v128.store(o, a01, 16);
      v128.store(o + rowBytes, a10); v128.store(o + rowBytes, a11, 16);
      v128.store(o + 2 * rowBytes, a20); v128.store(o + 2 * rowBytes, a21, 16);
      v128.store(o + 3 * rowBytes, a30); v128.store(o + 3 * rowBytes, a31, 16);
    }
  }
}

/**
 * Online log-sum-exp over the tile's first `valid` rows: per token r, `m[r]` (running max) and
 * `s[r]` (sum of `exp(z - m)`) are updated with this tile's logits. With `keep` (not 0), the tile
 * keeps `exp(z - m[r])` in place of its logits and `keep[r]` that `m[r]`, so that the backward
 * pass gets each probability with one multiply (`gradTile`) instead of another `exp`.
 */
export function lseTile(st: usize, valid: i32, np: i32, m: usize, s: usize, keep: usize): void {
  const rowBytes = <usize>np << 2;
  for (let r = 0; r < np; r += 4) {
    const col = st + (<usize>r << 2);
    let tmax = v128.load(col);
    for (let v = 1; v < valid; v++) tmax = f32x4.max(tmax, v128.load(col + <usize>v * rowBytes));
    const mOld = v128.load(m + (<usize>r << 2));
    const mNew = f32x4.max(mOld, tmax);
    let sum = f32x4.mul(v128.load(s + (<usize>r << 2)), vexp(f32x4.sub(mOld, mNew)));
    if (keep !== 0) {
      for (let v = 0; v < valid; v++) {
        const at = col + <usize>v * rowBytes;
        const e = vexp(f32x4.sub(v128.load(at), mNew));
        v128.store(at, e);
        sum = f32x4.add(sum, e);
      }
      v128.store(keep + (<usize>r << 2), mNew);
    } else {
      for (let v = 0; v < valid; v++) sum = f32x4.add(sum, vexp(f32x4.sub(v128.load(col + <usize>v * rowBytes), mNew)));
    }
    v128.store(m + (<usize>r << 2), mNew);
    v128.store(s + (<usize>r << 2), sum);
  }
}

/**
 * The loss gradient of the tile in place: `st[v, r] = (p[v, r] - [labels[r] == v0 + v]) * scale[r]`
 * for the first `valid` rows, 0 for the rest (padding); `scale[r]` is 0 for padded tokens. The
 * probabilities are `exp(st[v, r] - lse[r])` from logits, or, with `kept` (not 0: the tile holds
 * `exp(z - kept[r])` from `lseTile`), `st[v, r] * exp(kept[r] - lse[r])` (`kept` is overwritten).
 */
export function gradTile(st: usize, vb: i32, valid: i32, np: i32, lse: usize, scale: usize, labels: usize, v0: i32, kept: usize): void {
  const rowBytes = <usize>np << 2;
  if (kept !== 0) {
    for (let r = 0; r < np; r += 4) {
      const off = <usize>r << 2;
      v128.store(kept + off, f32x4.mul(vexp(f32x4.sub(v128.load(kept + off), v128.load(lse + off))), v128.load(scale + off)));
    }
  }
  for (let v = 0; v < vb; v++) {
    const row = st + <usize>v * rowBytes;
    if (v >= valid) {
      memory.fill(row, 0, rowBytes);
      continue;
    }
    if (kept !== 0) {
      for (let r = 0; r < np; r += 4) {
        const off = <usize>r << 2;
        v128.store(row + off, f32x4.mul(v128.load(row + off), v128.load(kept + off)));
      }
    } else {
      for (let r = 0; r < np; r += 4) {
        const off = <usize>r << 2;
        const p = vexp(f32x4.sub(v128.load(row + off), v128.load(lse + off)));
        v128.store(row + off, f32x4.mul(p, v128.load(scale + off)));
      }
    }
  }
  // The one-hot: each token whose label falls in this tile loses `scale` at its label.
  for (let r = 0; r < np; r++) {
    const v = load<i32>(labels + (<usize>r << 2)) - v0;
    if (v >= 0 && v < valid) {
      const at = st + <usize>v * rowBytes + (<usize>r << 2);
      store<f32>(at, load<f32>(at) - load<f32>(scale + (<usize>r << 2)));
    }
  }
}

/** `dh[r, c] += sum_v g[v, r] * w[v, c]`: `[np, vb] @ [vb, C]` added into `dh` (`[np, C]`), 4 x 8 blocks. */
export function dhTile(g: usize, w: usize, dh: usize, vb: i32, np: i32, dim: i32): void {
  const gRow = <usize>np << 2;
  const wRow = <usize>dim << 2;
  for (let r = 0; r < np; r += 4) {
    for (let c = 0; c < dim; c += 8) {
      const o = dh + (<usize>r * wRow) + (<usize>c << 2);
      let a00 = v128.load(o), a01 = v128.load(o, 16);
      let a10 = v128.load(o + wRow), a11 = v128.load(o + wRow, 16);
      let a20 = v128.load(o + 2 * wRow), a21 = v128.load(o + 2 * wRow, 16);
      let a30 = v128.load(o + 3 * wRow), a31 = v128.load(o + 3 * wRow, 16);
      let gp = g + (<usize>r << 2);
      let wp = w + (<usize>c << 2);
      for (let v = 0; v < vb; v++) {
        const b0 = v128.load(wp), b1 = v128.load(wp, 16);
        const s0 = v128.load32_splat(gp);
        const s1 = v128.load32_splat(gp, 4);
        const s2 = v128.load32_splat(gp, 8);
        const s3 = v128.load32_splat(gp, 12);
        a00 = f32x4.add(a00, f32x4.mul(s0, b0)); a01 = f32x4.add(a01, f32x4.mul(s0, b1));
        a10 = f32x4.add(a10, f32x4.mul(s1, b0)); a11 = f32x4.add(a11, f32x4.mul(s1, b1));
        a20 = f32x4.add(a20, f32x4.mul(s2, b0)); a21 = f32x4.add(a21, f32x4.mul(s2, b1));
        a30 = f32x4.add(a30, f32x4.mul(s3, b0)); a31 = f32x4.add(a31, f32x4.mul(s3, b1));
        gp += gRow;
        wp += wRow;
      }
      v128.store(o, a00); v128.store(o, a01, 16);
      v128.store(o + wRow, a10); v128.store(o + wRow, a11, 16);
      v128.store(o + 2 * wRow, a20); v128.store(o + 2 * wRow, a21, 16);
      v128.store(o + 3 * wRow, a30); v128.store(o + 3 * wRow, a31, 16);
    }
  }
}

/** `dw[v, c] (+)= sum_r g[v, r] * h[r, c]`: `[vb, np] @ [np, C]` into (or added to) `dw` (`[vb, C]`), 4 x 8 blocks. */
export function dwTile(g: usize, h: usize, dw: usize, vb: i32, np: i32, dim: i32, accumulate: bool): void {
  const gRow = <usize>np << 2;
  const hRow = <usize>dim << 2;
  for (let v = 0; v < vb; v += 4) {
    for (let c = 0; c < dim; c += 8) {
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
      let gp = g + <usize>v * gRow;
      let hp = h + (<usize>c << 2);
      for (let r = 0; r < np; r++) {
        const b0 = v128.load(hp), b1 = v128.load(hp, 16);
        const s0 = v128.load32_splat(gp);
        const s1 = v128.load32_splat(gp + gRow);
        const s2 = v128.load32_splat(gp + 2 * gRow);
        const s3 = v128.load32_splat(gp + 3 * gRow);
        a00 = f32x4.add(a00, f32x4.mul(s0, b0)); a01 = f32x4.add(a01, f32x4.mul(s0, b1));
        a10 = f32x4.add(a10, f32x4.mul(s1, b0)); a11 = f32x4.add(a11, f32x4.mul(s1, b1));
        a20 = f32x4.add(a20, f32x4.mul(s2, b0)); a21 = f32x4.add(a21, f32x4.mul(s2, b1));
        a30 = f32x4.add(a30, f32x4.mul(s3, b0)); a31 = f32x4.add(a31, f32x4.mul(s3, b1));
        gp += 4;
        hp += hRow;
      }
      const o = dw + <usize>v * hRow + (<usize>c << 2);
      if (accumulate) {
        a00 = f32x4.add(a00, v128.load(o)); a01 = f32x4.add(a01, v128.load(o, 16));
        a10 = f32x4.add(a10, v128.load(o + hRow)); a11 = f32x4.add(a11, v128.load(o + hRow, 16));
        a20 = f32x4.add(a20, v128.load(o + 2 * hRow)); a21 = f32x4.add(a21, v128.load(o + 2 * hRow, 16));
        a30 = f32x4.add(a30, v128.load(o + 3 * hRow)); a31 = f32x4.add(a31, v128.load(o + 3 * hRow, 16));
      }
      v128.store(o, a00); v128.store(o, a01, 16);
      v128.store(o + hRow, a10); v128.store(o + hRow, a11, 16);
      v128.store(o + 2 * hRow, a20); v128.store(o + 2 * hRow, a21, 16);
      v128.store(o + 3 * hRow, a30); v128.store(o + 3 * hRow, a31, 16);
    }
  }
}
