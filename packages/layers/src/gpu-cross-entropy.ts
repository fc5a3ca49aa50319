import * as tf from "@tensorflow/tfjs";

/**
 * The softmax cross-entropy of the vocabulary head as two custom kernels on tfjs's GPU backends
 * (`webgpu`, `webgl`), instead of the ~10 tfjs kernels of a softmax, its reductions and the
 * one-hot correction:
 *
 * - `rowLogSumExp(logits)`: each row's `log(sum(exp(z)))`, in one read of the logits (an online
 *   max and sum: `m' = max(m, z)`, `s' = s exp(m - m') + exp(z - m')`). The loss of a row is
 *   `lse - z[label]`: exact where the label's probability underflows too.
 * - `crossEntropyGrad(logits, lse, labels, scale)`: `(exp(z - lse) - onehot(label)) * scale[row]`,
 *   the gradient of the loss with respect to the logits, in one read and one write; the head's
 *   `dHidden = G W` and `dTable = G^T H` then need no gather/scatter correction.
 *
 * Registered with tfjs (`tf.registerKernel`) the first time they run on a GPU backend; written
 * against the backends' program interfaces (`runWebGPUProgram`, `compileAndRun`), so this package
 * does not import `@tensorflow/tfjs-backend-webgpu` or `-webgl`. On every other backend both
 * functions are tfjs ops (the same values).
 *
 * Why: in the head on webgl (SwiftShader, `[256, 8192]` logits at width 64) everything but the
 * matrix multiplications was 58-76% of the head's time (packages/web/scripts/profile-head.mjs).
 */

/** tfjs kernel names of the two kernels. */
export const ROW_LOGSUMEXP = "TfgptRowLogSumExp";
export const CROSS_ENTROPY_GRAD = "TfgptCrossEntropyGrad";

/** The backends with a custom kernel here. */
const GPU_BACKENDS = ["webgpu", "webgl"] as const;
type GpuBackend = (typeof GPU_BACKENDS)[number];

let enabled = true;

/**
 * Turns the custom kernels off (`false`: the head runs on tfjs ops on the GPU backends too, as
 * before they existed) or back on. For measuring what they save; on by default.
 */
export function useGpuCrossEntropyKernels(on: boolean): void {
  enabled = on;
}

/** The tfjs GPU backend the kernels run on now, or `null` (tfjs ops are used instead). */
export function gpuCrossEntropyBackend(): GpuBackend | null {
  if (!enabled) return null;
  const name = tf.getBackend();
  return (GPU_BACKENDS as readonly string[]).includes(name) ? (name as GpuBackend) : null;
}

// ---------------------------------------------------------------------------------------------
// WebGPU: WGSL programs run by the backend's `runWebGPUProgram` (tfjs adds the bindings, the
// uniforms, the `getX(...)` readers and `setOutputAtIndex`; `main(index)` is called per thread).

interface WebGPUProgramLike {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  getUserCode(): string;
}

interface WebGPUBackendLike {
  runWebGPUProgram(program: WebGPUProgramLike, inputs: tf.TensorInfo[], outputDtype: tf.DataType): tf.TensorInfo;
}

/** Threads of a workgroup: one workgroup per row, threads striding over its columns. */
const WEBGPU_ROW_THREADS = 256;

function webgpuRowLogSumExp(rows: number): WebGPUProgramLike {
  return {
    variableNames: ["logits"],
    outputShape: [rows],
    shaderKey: "tfgptRowLogSumExp",
    dispatchLayout: { x: [0] },
    dispatch: [rows, 1, 1],
    workgroupSize: [WEBGPU_ROW_THREADS, 1, 1],
    getUserCode: () => `
    var<workgroup> maxes : array<f32, ${WEBGPU_ROW_THREADS}>;
    var<workgroup> sums : array<f32, ${WEBGPU_ROW_THREADS}>;
    fn main(index : i32) {
      let row = index / ${WEBGPU_ROW_THREADS};
      let tid = i32(localId.x);
      let cols = uniforms.logitsShape[1];
      var m = -3.402823e+38f;
      var s = 0.0;
      for (var col = tid; col < cols; col += ${WEBGPU_ROW_THREADS}) {
        let z = getLogits(row, col);
        if (z > m) {
          s = s * exp(m - z) + 1.0;
          m = z;
        } else {
          s += exp(z - m);
        }
      }
      maxes[tid] = m;
      sums[tid] = s;
      workgroupBarrier();
      for (var half = ${WEBGPU_ROW_THREADS / 2}; half > 0; half = half >> 1) {
        if (tid < half) {
          let m1 = maxes[tid];
          let m2 = maxes[tid + half];
          let top = max(m1, m2);
          // An empty stripe (s = 0, m = -FLT_MAX) adds exp(-FLT_MAX - top) * 0 = 0.
          sums[tid] = sums[tid] * exp(m1 - top) + sums[tid + half] * exp(m2 - top);
          maxes[tid] = top;
        }
        workgroupBarrier();
      }
      if (tid == 0) {
        setOutputAtIndex(row, maxes[0] + log(sums[0]));
      }
    }`,
  };
}

function webgpuCrossEntropyGrad(rows: number, cols: number): WebGPUProgramLike {
  const size = rows * cols;
  const threads = 64;
  return {
    variableNames: ["logits", "lse", "labels", "scale"],
    outputShape: [rows, cols],
    shaderKey: "tfgptCrossEntropyGrad",
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil(size / threads), 1, 1],
    workgroupSize: [threads, 1, 1],
    size: true,
    getUserCode: () => `
    fn main(index : i32) {
      if (index < uniforms.size) {
        let cols = uniforms.outShape[1];
        let row = index / cols;
        let col = index - row * cols;
        var g = exp(getLogits(row, col) - getLse(row));
        if (col == i32(getLabels(row))) {
          g -= 1.0;
        }
        setOutputAtIndex(index, g * getScale(row));
      }
    }`,
  };
}

// ---------------------------------------------------------------------------------------------
// WebGL: GLSL fragment programs run by the backend's `compileAndRun` (one output value per
// fragment; tfjs adds the `getX(...)` samplers, `getOutputCoords()` and `setOutput`). Row sums in
// two passes: each fragment of the first reduces a block of one row to its log-sum-exp, the
// second combines a row's blocks.

interface WebGLProgramLike {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
}

interface WebGLBackendLike {
  compileAndRun(program: WebGLProgramLike, inputs: tf.TensorInfo[], outputDtype?: tf.DataType): tf.TensorInfo;
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
}

/** Columns of a row that one fragment of the first WebGL pass reduces. */
const WEBGL_BLOCK = 256;

function webglBlockLogSumExp(rows: number, cols: number): WebGLProgramLike {
  const blocks = Math.ceil(cols / WEBGL_BLOCK);
  return {
    variableNames: ["logits"],
    outputShape: [rows, blocks],
    userCode: `
    void main() {
      ivec2 coords = getOutputCoords();
      int start = coords.y * ${WEBGL_BLOCK};
      float m = -3.402823e+38;
      float s = 0.0;
      for (int j = 0; j < ${WEBGL_BLOCK}; j++) {
        int col = start + j;
        if (col >= ${cols}) break;
        float z = getLogits(coords.x, col);
        if (z > m) {
          s = s * exp(m - z) + 1.0;
          m = z;
        } else {
          s += exp(z - m);
        }
      }
      setOutput(m + log(s));
    }`,
  };
}

function webglCombineLogSumExp(rows: number, blocks: number): WebGLProgramLike {
  return {
    variableNames: ["partial"],
    outputShape: [rows],
    userCode: `
    void main() {
      int row = getOutputCoords();
      float m = -3.402823e+38;
      for (int b = 0; b < ${blocks}; b++) m = max(m, getPartial(row, b));
      float s = 0.0;
      for (int b = 0; b < ${blocks}; b++) s += exp(getPartial(row, b) - m);
      setOutput(m + log(s));
    }`,
  };
}

function webglCrossEntropyGrad(rows: number, cols: number): WebGLProgramLike {
  return {
    variableNames: ["logits", "lse", "labels", "scale"],
    outputShape: [rows, cols],
    userCode: `
    void main() {
      ivec2 coords = getOutputCoords();
      float g = exp(getLogits(coords.x, coords.y) - getLse(coords.x));
      // int32 labels are stored as floats on webgl (exact below 2^24).
      if (coords.y == int(getLabels(coords.x) + 0.5)) g -= 1.0;
      setOutput(g * getScale(coords.x));
    }`,
  };
}

// ---------------------------------------------------------------------------------------------

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown };

function registerKernels(): void {
  for (const backendName of GPU_BACKENDS) {
    if (tf.getKernel(ROW_LOGSUMEXP, backendName) !== undefined) continue;
    tf.registerKernel({
      kernelName: ROW_LOGSUMEXP,
      backendName,
      kernelFunc: ({ inputs, backend }: KernelArgs) => {
        const logits = inputs.logits as tf.TensorInfo;
        const [rows, cols] = logits.shape as [number, number];
        if (backendName === "webgpu") return (backend as WebGPUBackendLike).runWebGPUProgram(webgpuRowLogSumExp(rows), [logits], "float32");
        const gl = backend as WebGLBackendLike;
        const partial = gl.compileAndRun(webglBlockLogSumExp(rows, cols), [logits], "float32");
        const out = gl.compileAndRun(webglCombineLogSumExp(rows, partial.shape[1] as number), [partial], "float32");
        gl.disposeIntermediateTensorInfo(partial);
        return out;
      },
    } as unknown as tf.KernelConfig);
    tf.registerKernel({
      kernelName: CROSS_ENTROPY_GRAD,
      backendName,
      kernelFunc: ({ inputs, backend }: KernelArgs) => {
        const ordered = [inputs.logits, inputs.lse, inputs.labels, inputs.scale] as tf.TensorInfo[];
        const [rows, cols] = (inputs.logits as tf.TensorInfo).shape as [number, number];
        if (backendName === "webgpu") return (backend as WebGPUBackendLike).runWebGPUProgram(webgpuCrossEntropyGrad(rows, cols), ordered, "float32");
        return (backend as WebGLBackendLike).compileAndRun(webglCrossEntropyGrad(rows, cols), ordered, "float32");
      },
    } as unknown as tf.KernelConfig);
  }
}

/** Each row's `log(sum(exp(logits)))`, `[R]`: one custom kernel on webgpu/webgl, tfjs's `logSumExp` elsewhere. */
export function rowLogSumExp(logits: tf.Tensor2D): tf.Tensor1D {
  if (gpuCrossEntropyBackend() === null) return tf.logSumExp(logits, -1) as tf.Tensor1D;
  registerKernels();
  return tf.engine().runKernel(ROW_LOGSUMEXP, { logits } as unknown as tf.NamedTensorMap, {}) as tf.Tensor1D;
}

/**
 * `(softmax(logits) - onehot(labels)) * scale[row]`, `[R, V]`, from each row's log-sum-exp `lse`
 * (`[R]`), int32 `labels` (`[R]`, valid ids) and `scale` (`[R]`): one custom kernel on
 * webgpu/webgl, tfjs ops elsewhere.
 */
export function crossEntropyGrad(logits: tf.Tensor2D, lse: tf.Tensor1D, labels: tf.Tensor1D, scale: tf.Tensor1D): tf.Tensor2D {
  if (gpuCrossEntropyBackend() === null) {
    return tf.tidy(() => {
      const p = tf.exp(tf.sub(logits, tf.expandDims(lse, 1)));
      const g = tf.sub(p, tf.oneHot(labels, logits.shape[1]));
      return tf.mul(g, tf.expandDims(scale, 1)) as tf.Tensor2D;
    });
  }
  registerKernels();
  return tf.engine().runKernel(CROSS_ENTROPY_GRAD, { logits, lse, labels, scale } as unknown as tf.NamedTensorMap, {}) as tf.Tensor2D;
}
