// Every child process `npm run bench` starts, with its settings for a full and a --quick run.
// Time limits keep the whole full run under 15 minutes on 2 cores even when a stock baseline
// is hopeless (tfjs's UnsortedSegmentSum on cpu): that row then reports the limit it hit.

const NODE = process.execPath;

/** One benchmark process: `group` selects it with --only, `limitS` is its time limit. */
function job(id, group, script, args, limitS, { nodeFlags = [], command, env, skip } = {}) {
  return { id, group, command: command ?? NODE, argv: command ? args : [...nodeFlags, `bench/rows/${script}`, JSON.stringify(args)], limitS, env, skip };
}

/** A Python row: `python` is the bench venv's interpreter; without one the row is skipped with `pythonSkip`. */
function pyJob(id, group, args, limitS, { python, pythonSkip, env }) {
  return job(id, group, null, args, limitS, { command: python ?? "python3", env, skip: python ? undefined : pythonSkip ?? "no Python for the bench" });
}

/** The ordered job list; `q` is true for --quick (short inputs, few repetitions). */
export function plan(q, { python, pythonSkip, debianPython = "/usr/bin/python3" } = {}) {
  const jobs = [];
  const reps = q ? 2 : 5;

  // 1. Tokenizer.
  jobs.push(job("tok-frankenstein", "tokenizer", "tokenizer.js", { mode: "throughput", input: "frankenstein", bytes: q ? 1e6 : 10e6, reps }, q ? 120 : 300));
  jobs.push(job("tok-mix", "tokenizer", "tokenizer.js", { mode: "throughput", input: "mix", bytes: q ? 3e5 : 2e6, reps }, q ? 60 : 180));
  // Pathological input: every implementation at the js-tiktoken size (same input, ratios), the
  // others also at 100,000 letters; quadratic ones hit their time limit and are reported so.
  const small = q ? 4000 : 16000;
  for (const impl of ["js-tiktoken", "gpt-tokenizer", "tiktoken (wasm)", "ours"]) {
    jobs.push(job(`tok-path-${impl}-${small}`, "tokenizer", "tokenizer.js", { mode: "pathological", impl, letters: small, reps: impl === "ours" ? 3 : 1 }, q ? 30 : 90));
  }
  for (const impl of ["gpt-tokenizer", "tiktoken (wasm)", "ours"]) {
    jobs.push(job(`tok-path-${impl}-100000`, "tokenizer", "tokenizer.js", { mode: "pathological", impl, letters: 100000, reps: impl === "ours" ? 3 : 1 }, q ? 20 : 30));
  }
  jobs.push(job("tok-parallel", "tokenizer", "tokenizer.js", { mode: "parallel", bytes: q ? 2e6 : 10e6, reps, workers: 2 }, q ? 60 : 180));
  // What a page pays for the tokenizers: Vite production builds, sizes only (no timing).
  jobs.push(job("tok-bundle", "tokenizer", "bundle.js", {}, 300));

  // 2. Dataset (each build in its own process so heap and RSS deltas belong to it alone).
  for (const stride of [128, 1]) {
    for (const impl of ["v1", "ours"]) {
      jobs.push(job(`ds-build-${impl}-${stride}`, "dataset", "dataset.js", { mode: "build", impl, maxLength: 256, stride, reps }, q ? 60 : 120, { nodeFlags: ["--expose-gc"] }));
    }
  }
  for (const impl of ["v1", "ours"]) {
    jobs.push(job(`ds-iterate-${impl}`, "dataset", "dataset.js", { mode: "iterate", impl, maxLength: 256, stride: 1, batchSize: 8, batches: q ? 1000 : 5000, reps }, q ? 60 : 120));
  }
  jobs.push(job("ds-pipeline", "dataset", "dataset.js", { mode: "pipeline", backend: "wasm", steps: q ? 3 : 10, fetches: q ? 50 : 500 }, q ? 90 : 150));

  // 3. Embedding backward at GPT-2's vocabulary.
  const emb = { vocab: 50257, tokens: 512, dim: 64 };
  for (const backend of ["cpu", "wasm"]) {
    jobs.push(job(`emb-ours-${backend}`, "embedding", "embedding.js", { impl: "ours", backend, ...emb, reps: q ? 3 : 10, warmup: 2 }, 60));
    // Stock on cpu is vocab x tokens x dim work (minutes): one timed pass under a limit.
    jobs.push(job(`emb-stock-${backend}`, "embedding", "embedding.js", { impl: "stock", backend, ...emb, reps: 1, warmup: 0 }, backend === "cpu" ? (q ? 20 : 120) : 60));
  }
  // The same stock pass at 64 tokens: a finished figure that shows the cost grows with tokens.
  if (!q) jobs.push(job("emb-stock-cpu-64", "embedding", "embedding.js", { impl: "stock", backend: "cpu", ...emb, tokens: 64, reps: 1, warmup: 0 }, 60));

  // 4. Training the tiny GPT, plus the kernel profile of one step.
  for (const backend of ["wasm", "wasm-1", "cpu", "tensorflow"]) {
    const matmulSize = backend === "cpu" ? 512 : 1024;
    for (const impl of ["stock", "ours"]) {
      const stockCpu = impl === "stock" && backend === "cpu";
      // tfjs's cpu backend needs seconds per step even for ours: fewer steps there.
      const steps = backend === "cpu" ? (q ? 2 : 3) : q ? 3 : 10;
      // On cpu one step of ours takes ~1-2 minutes on 2 busy cores: no warm-up step there.
      const warmup = backend === "cpu" ? 0 : q ? 1 : 3;
      jobs.push(job(`train-${impl}-${backend}`, "training", "training.js", { mode: "train", impl, backend, steps, warmup, matmulReps: q ? 2 : 5, matmulSize, budgetS: q ? 60 : 120 }, stockCpu ? (q ? 30 : 90) : backend === "cpu" ? (q ? 180 : 300) : q ? 150 : 240));
    }
  }
  jobs.push(job("train-profile", "training", "training.js", { mode: "profile", backend: "wasm" }, 120));
  // The same profile on tensorflow, for tiny and for the 124M shape (what stands between it and PyTorch).
  jobs.push(job("train-profile-tensorflow", "training", "training.js", { mode: "profile", backend: "tensorflow" }, 120));
  jobs.push(job("train-profile-tensorflow-124m", "training", "training.js", { mode: "profile", backend: "tensorflow", preset: "gpt2-small", context: 256, batchSize: 4 }, q ? 240 : 300));
  // The 124M model on tensorflow alone (wasm cannot hold its 1.8 GiB of training state): context
  // 256, batch 4; fails with "not installed" where tfjs-node is not (npm run setup:tensorflow).
  jobs.push(job("train-ours-tensorflow-124m", "training", "training.js", { mode: "train", impl: "ours", backend: "tensorflow", preset: "gpt2-small", context: 256, batchSize: 4, steps: q ? 1 : 5, warmup: q ? 1 : 2, matmulReps: 2, matmulSize: 1024, budgetS: q ? 60 : 240 }, q ? 240 : 420));

  // 5. PyTorch reference, 1 and 2 threads (BLAS and intra-op threads set alike): torch 2.13 (CPU
  // build, MKL) from the bench venv for `tiny` and for the 124M shape; Debian's PyTorch 1.13 +
  // OpenBLAS (/usr/bin/python3, when python3-torch is installed) for `tiny` only, as a footnote.
  for (const threads of [1, 2]) {
    const env = { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined };
    const tinyArgs = ["bench/torch_tiny.py", "--threads", String(threads), "--steps", q ? "5" : "30", "--warmup", q ? "2" : "5"];
    jobs.push(pyJob(`torch-${threads}`, "torch", tinyArgs, q ? 90 : 180, { python, pythonSkip, env }));
    const bigArgs = ["bench/torch_tiny.py", "--preset", "gpt2-small", "--context", "256", "--batch", "4", "--threads", String(threads), "--steps", q ? "1" : "5", "--warmup", q ? "1" : "2"];
    jobs.push(pyJob(`torch-124m-${threads}`, "torch", bigArgs, q ? 180 : 300, { python, pythonSkip, env }));
    jobs.push(job(`torch-debian-${threads}`, "torch", null, ["bench/torch_tiny.py", "--threads", String(threads), "--steps", q ? "5" : "20", "--warmup", q ? "2" : "3"], q ? 90 : 180, { command: debianPython, env }));
  }

  // 7. In the browser: headless chromium per tfjs backend (packages/web/scripts/measure-backends.mjs).
  // Without a GPU, webgpu and webgl run on SwiftShader (a CPU emulating a GPU): correctness runs.
  // `tiny` leaves webgpu out where it is SwiftShader (> 4 min a step of its [256, 50257] head);
  // on a machine with a GPU, `--only browser` with TFGPT_BENCH_BROWSER_TINY=webgpu,webgl,wasm adds it.
  jobs.push(job("browser-micro", "browser", "browser.js", { backends: ["webgpu", "webgl", "wasm", "cpu"], shape: "micro", steps: q ? 3 : 6, newTokens: 16 }, q ? 300 : 420));
  const tinyBackends = (process.env.TFGPT_BENCH_BROWSER_TINY ?? "webgl,wasm").split(",");
  jobs.push(job("browser-tiny", "browser", "browser.js", { backends: tinyBackends, shape: "tiny", steps: q ? 2 : 3, newTokens: 8 }, q ? 300 : 480));

  // 6. Generation with the gpt2 (124M) shape: transformers first (it writes the random weights
  // both generate from), then ours on wasm loading that safetensors file. Python: the bench venv
  // (torch 2.13 + transformers; bench/lib/python.js) or $TFGPT_BENCH_PYTHON.
  const gen = { prompt: 32, newTokens: q ? 32 : 128 };
  const genDir = "bench/out/gpt2-random";
  const threads = "2";
  // torch at 1 and 2 threads: on a busy 2-core machine its 2-thread runs can be ~8x slower than 1 thread (OpenMP spin-waits).
  for (const t of ["1", threads]) {
    const args = ["bench/generation_hf.py", "--threads", t, "--prompt", String(gen.prompt), "--new", String(gen.newTokens), "--reps", q ? "1" : "2"];
    jobs.push(pyJob(`gen-transformers-${t}`, "generation", t === "1" ? [...args, "--save", genDir] : args, q ? 180 : 400, { python, pythonSkip, env: { OPENBLAS_NUM_THREADS: t, OMP_NUM_THREADS: t, MKL_NUM_THREADS: t } }));
  }
  jobs.push(job("gen-ours-wasm", "generation", "generation.js", { backend: "wasm", dir: genDir, ...gen, reps: q ? 1 : 3, uncachedReps: 1 }, q ? 240 : 500));
  return jobs;
}
