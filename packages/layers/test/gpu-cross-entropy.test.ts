import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { crossEntropyGrad, gpuCrossEntropyBackend, rowLogSumExp, useGpuCrossEntropyKernels } from "../src/gpu-cross-entropy.js";
import { BACKENDS, useBackend } from "./backends.js";

function maxAbsDiff(a: ArrayLike<number>, b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

// The custom kernels themselves run on webgpu and webgl only: they are checked against cpu in
// headless Chromium (packages/web/test/gpu-backends.test.ts). Here: the tfjs-ops versions every
// other backend runs, against the definitions in float64.

describe.each(BACKENDS)("rowLogSumExp and crossEntropyGrad on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  const rows = 3;
  const cols = 300;
  const values = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) * (i < cols ? 3 : i < 2 * cols ? 90 : 0));
  const labels = [4, 299, 0];
  const scale = [1, -0.5, 2];

  function expected(): { lse: number[]; grad: number[] } {
    const lse: number[] = [];
    const grad: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = Array.from(values.subarray(r * cols, (r + 1) * cols));
      const m = Math.max(...row);
      const l = m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0));
      lse.push(l);
      row.forEach((z, c) => grad.push((Math.exp(z - l) - (c === labels[r] ? 1 : 0)) * (scale[r] as number)));
    }
    return { lse, grad };
  }

  it("equal the float64 definitions (a row up to 90: no overflow; an all-equal row)", async () => {
    expect(gpuCrossEntropyBackend()).toBeNull();
    const want = expected();
    const logits = tf.tensor2d(values, [rows, cols]);
    const lse = rowLogSumExp(logits);
    const ids = tf.tensor1d(labels, "int32");
    const scales = tf.tensor1d(scale);
    const grad = crossEntropyGrad(logits, lse, ids, scales);
    expect(maxAbsDiff(await lse.data(), want.lse)).toBeLessThan(1e-4);
    expect(maxAbsDiff(await grad.data(), want.grad)).toBeLessThan(1e-6);
    expect((await lse.data())[2]).toBeCloseTo(Math.log(cols), 5);
    tf.dispose([logits, lse, grad, ids, scales]);
  });

  it("are off on request and on again (only ever used on webgpu and webgl)", () => {
    useGpuCrossEntropyKernels(false);
    expect(gpuCrossEntropyBackend()).toBeNull();
    useGpuCrossEntropyKernels(true);
    expect(gpuCrossEntropyBackend()).toBeNull();
  });
});
