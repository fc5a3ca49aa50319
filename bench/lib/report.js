// Turns the children's results into docs/BENCHMARKS.md: one table per row group, ratios stated.
import { med, num, pct, ratio, table, val } from "./format.js";

const TOKENIZERS = ["js-tiktoken", "gpt-tokenizer", "tiktoken (wasm)"];

/** Accessors over the results map that turn a failed or missing job into an error measurement. */
function accessors(results) {
  const res = (id) => results[id];
  res.all = results;
  const m = (id, key) => {
    const r = results[id];
    if (r === undefined) return undefined;
    if (!r.ok) return { error: r.timedOut ? `> ${r.limitS} s (${r.error})` : `fails: ${r.error}` };
    return r.result.measurements?.[key] ?? { error: "no figure" };
  };
  return { res, m };
}

function backendLabel(b) {
  if (b === undefined) return "?";
  const threads = b.backend === "wasm" ? `, ${b.threads} thread${b.threads === 1 ? "" : "s"}` : "";
  return `${b.backend}${threads}${b.via === "selectBackend" ? " (selectBackend)" : ""}`;
}

function tokenizerSection({ res, m }) {
  const out = ["## 1. Tokenizer: gpt2 encode", ""];
  for (const [id, title] of [["tok-frankenstein", "Frankenstein (pg84, read as Python reads it) repeated"], ["tok-mix", "a seeded text mix that is none of our corpora (code, numbers, accented/Greek/Cyrillic words, emoji, CJK, whitespace runs)"]]) {
    const r = res(id);
    const size = r?.ok ? `${num(r.result.bytes / 1e6)} MB, ${num(r.result.tokens)} tokens` : "";
    out.push(`**${title}** ${size ? `(${size})` : ""}: MB/s (10^6 UTF-8 bytes per second), higher is better.`, "");
    const ours = m(id, "ours");
    const rows = TOKENIZERS.map((name) => [name, med(m(id, name)), med(ours), ratio(val(ours), val(m(id, name))), r?.ok ? (r.result.checks[name] ?? "reference") : "–"]);
    out.push(table(["baseline", "baseline MB/s", "ours MB/s", "ours / baseline", "baseline ids vs js-tiktoken"], rows));
    if (r?.ok) out.push("", `Our ids vs js-tiktoken on the whole input: **${r.result.checks.ours ?? "not checked (ours unavailable)"}**.`);
    out.push("");
  }
  out.push("**Pathological input**: one letter repeated (a single pre-token, so the whole run reaches the BPE merge loop at once). Milliseconds, lower is better; one pass for the baselines, the median of 3 for ours. js-tiktoken is quadratic: it runs only the smaller input.", "");
  const smallJob = Object.keys(res.all).find((id) => id.startsWith("tok-path-ours-") && !id.endsWith("-100000"));
  const small = smallJob ? Number(smallJob.split("-").at(-1)) : undefined;
  const rows = [];
  const oursSmall = m(`tok-path-ours-${small}`, "ours");
  for (const name of ["js-tiktoken", "gpt-tokenizer", "tiktoken (wasm)", "ours"]) {
    const s = m(`tok-path-${name}-${small}`, name);
    const b = name === "js-tiktoken" ? { error: "not attempted (quadratic)" } : m(`tok-path-${name}-100000`, name);
    rows.push([name, med(s), name === "ours" ? "–" : ratio(val(oursSmall), val(s)), med(b)]);
  }
  out.push(table(["implementation", `${small?.toLocaleString("en-US") ?? "?"} letters, ms`, "ours / this (time)", "100,000 letters, ms"], rows), "");
  const par = res("tok-parallel");
  out.push("**Parallel encode** (`encodeParallel`, worker_threads) on Frankenstein repeated, MB/s:", "");
  const single = m("tok-parallel", "single");
  const multi = m("tok-parallel", "parallel");
  const oneShot = m("tok-parallel", "oneShot");
  const w = par?.ok ? par.result.workers : 2;
  out.push(table(["ours, 1 thread", `ours, ${w} workers (warm \`ParallelEncoder\`)`, "workers / single", `one-shot \`encodeParallel\` (starts ${w} workers)`, "one-shot / single", "ids"], [[med(single), med(multi), ratio(val(multi), val(single)), med(oneShot), ratio(val(oneShot), val(single)), par?.ok ? par.result.check : (par?.error ?? "not run")]]), "");
  out.push(...bundleRows(res("tok-bundle")));
  return out.join("\n");
}

/** The page-size table: Vite production builds of a one-line page per tokenizers entry, and of the web app. */
function bundleRows(r) {
  const out = ["**What a page pays** (Vite production build of a one-line page that encodes with each entry; bytes of JavaScript, not timed). The main entry registers all five encodings; `core` + `encodings/<name>` registers one; `loadTiktoken` puts each rank table in a chunk of its own, fetched when asked for:", ""];
  if (!r?.ok) return [...out, `not measured: ${r?.error ?? "not run"}`, ""];
  const kb = (b) => `${num(b / 1e3)} kB`;
  const rows = Object.entries(r.result.sizes).map(([label, s]) => [label, kb(s.bytes), kb(s.gzip), kb(s.entry), String(s.files)]);
  return [...out, table(["page", "JS total", "gzip", "first load (entry chunk)", "JS files"], rows), ""];
}

function datasetSection({ res, m }) {
  const out = ["## 2. Dataset: sliding windows over Frankenstein's ids (pg84.txt, gpt2)", ""];
  out.push("`GPTDatasetV1` port = the book's class translated line by line (every window copied into arrays, as the Python keeps a list of tensors); ours = `GPTDataset` (windows are views into one typed array). Each build ran in its own process; times are the builds after the first (cold) one; memory = heap + ArrayBuffer growth of that first build after a forced GC (RSS growth beside it). Lower is better.", "");
  const rows = [];
  for (const stride of [128, 1]) {
    const v1 = res(`ds-build-v1-${stride}`);
    const ours = res(`ds-build-ours-${stride}`);
    const windows = v1?.ok ? v1.result.windows : ours?.ok ? ours.result.windows : undefined;
    const mem = (r, k) => (r?.ok ? `${num(r.result.measurements[k])} MB` : "–");
    rows.push([
      `256 / ${stride}`, num(windows),
      med(m(`ds-build-v1-${stride}`, "buildMs")), med(m(`ds-build-ours-${stride}`, "buildMs")),
      ratio(val(m(`ds-build-ours-${stride}`, "buildMs")), val(m(`ds-build-v1-${stride}`, "buildMs"))),
      mem(v1, "heapDeltaMB"), mem(ours, "heapDeltaMB"), mem(v1, "rssDeltaMB"), mem(ours, "rssDeltaMB"),
    ]);
  }
  out.push(table(["maxLength / stride", "windows", "V1 build ms", "ours build ms", "ours / V1 (time)", "V1 memory", "ours memory", "V1 RSS Δ", "ours RSS Δ"], rows), "");
  const it = res("ds-iterate-v1") ?? res("ds-iterate-ours");
  const desc = it?.ok ? `batch ${it.result.batchSize} × ${it.result.maxLength} tokens, stride ${it.result.stride}, shuffled, ${it.result.batches.toLocaleString("en-US")} batches per pass` : "";
  out.push(`**Iterating** (${desc}): batches/s, higher is better. V1 = the port above plus a plain shuffling loader that collates each batch into Int32Arrays; ours = \`DataLoader\`.`, "");
  const bi = m("ds-iterate-ours", "batchesPerSec");
  const bv = m("ds-iterate-v1", "batchesPerSec");
  out.push(table(["V1 port batches/s", "ours batches/s", "ours / V1"], [[med(bv), med(bi), ratio(val(bi), val(bv))]]), "");
  const p = res("ds-pipeline");
  out.push(`**The data pipeline's share of a training step** (${p?.ok ? backendLabel(p.result.backend) : "wasm"}): fetching a batch of 8 × 64 from \`DataLoader\` plus creating its two int32 tensors, against one \`trainOnBatch\` step of \`createGPT("tiny")\`.`, "");
  out.push(table(["data per batch (ms)", "training step (ms)", "data / step"], [[med(m("ds-pipeline", "dataMs")), med(m("ds-pipeline", "stepMs")), p?.ok ? pct(p.result.measurements.share) : med(m("ds-pipeline", "share"))]]), "");
  return out.join("\n");
}

function embeddingSection({ res, m }) {
  const out = ["## 3. Embedding backward: vocabulary 50,257 × 64, 512 token ids (8 × 64, one id repeated)", ""];
  out.push("One forward + backward pass with respect to the table (`tf.variableGrads`), gradient read back. Milliseconds, lower is better. Stock = `tf.layers.embedding` (its gradient is gather's: `UnsortedSegmentSum` over the whole vocabulary); ours = `TokenEmbedding`.", "");
  const rows = [];
  for (const backend of ["cpu", "wasm"]) {
    const s = m(`emb-stock-${backend}`, "backwardMs");
    const o = m(`emb-ours-${backend}`, "backwardMs");
    const be = res(`emb-ours-${backend}`)?.result?.backend ?? res(`emb-stock-${backend}`)?.result?.backend;
    const r = res(`emb-stock-${backend}`);
    const faster = val(s) && val(o) ? `${num(val(s) / val(o))}× faster` : r?.timedOut && val(o) ? `> ${num((r.limitS * 1000) / val(o))}× faster` : "–";
    rows.push([be ? backendLabel(be) : backend, med(s), med(o), ratio(val(o), val(s)), faster]);
  }
  out.push(table(["backend", "stock ms", "ours ms", "ours / stock (time)", "speed-up"], rows));
  const small = res("emb-stock-cpu-64");
  if (small !== undefined) out.push("", `For scale: the stock pass on \`cpu\` at 64 token ids (1/8 of the row's) took ${med(m("emb-stock-cpu-64", "backwardMs"))} ms; its cost grows with vocab × tokens × dim.`);
  out.push("");
  return out.join("\n");
}

function trainingSection({ res, m }, torchBest) {
  const out = ["## 4. Training the `tiny` GPT (vocab 50,257, context 64, width 64, 2 layers, 2 heads, batch 8)", ""];
  const any = Object.values(["ours", "stock"].flatMap((i) => ["wasm", "wasm-1", "cpu", "tensorflow"].map((b) => res(`train-${i}-${b}`)))).find((r) => r?.ok);
  const fpt = any?.result.flopsPerToken;
  out.push(
    `Tokens/s, higher is better (median of the timed steps after warm-up, one batch reused; on \`cpu\` the steps are so slow that they are timed without a warm-up step, under a time budget). Stock = the same shape from stock tfjs (\`tf.layers.embedding\`, core-op blocks, untied \`tf.layers.dense\` head, \`tf.losses.softmaxCrossEntropy\` on one-hot targets, \`tf.train.adam\`: tfjs has no AdamW); ours = \`createGPT("tiny")\` compiled with \`sparseCrossEntropyFromLogits\`.`,
    "",
    `Arithmetic limit: a square matmul measured on the same backend in the same process (1024³ on wasm, 512³ on cpu). Training FLOPs per token = 6 × matmul parameters (blocks' 12·L·C² plus the V·C head) + attention 12·L·T·C = **${fpt ? num(fpt / 1e6) : "~20.0"} MFLOP**; share = tokens/s × FLOPs per token / matmul FLOP/s.`,
    "",
  );
  const rows = [];
  for (const backend of ["wasm", "wasm-1", "cpu", "tensorflow"]) {
    const s = res(`train-stock-${backend}`);
    const o = res(`train-ours-${backend}`);
    const be = o?.result?.backend ?? s?.result?.backend;
    const mm = val(m(`train-ours-${backend}`, "matmul")) !== undefined ? m(`train-ours-${backend}`, "matmul") : m(`train-stock-${backend}`, "matmul");
    const share = (r) => (r?.ok && r.result.measurements.shareOfMatmul !== undefined ? pct(r.result.measurements.shareOfMatmul) : "–");
    const st = m(`train-stock-${backend}`, "tokensPerSec");
    const ot = m(`train-ours-${backend}`, "tokensPerSec");
    const n = (r) => (r?.ok && r.result.stepsTimed !== undefined ? String(r.result.stepsTimed) : "–");
    rows.push([be ? backendLabel(be) : backend, med(mm), med(st), med(ot), ratio(val(ot), val(st)), share(s), share(o), torchBest ? ratio(val(ot), torchBest.median) : "–", `${n(s)} / ${n(o)}`]);
  }
  out.push(table(["backend", "matmul GFLOP/s", "stock tokens/s", "ours tokens/s", "ours / stock", "stock % of matmul", "ours % of matmul", "ours / PyTorch best", "timed steps (stock / ours)"], rows), "");
  const notes = ["wasm", "wasm-1", "cpu", "tensorflow"].map((b) => res(`train-ours-${b}`)?.result?.backend?.note).filter(Boolean);
  if (notes.length) out.push(`Backend notes: ${[...new Set(notes)].join("; ")}.`, "");
  const o = res("train-ours-wasm");
  if (o?.ok && o.result.losses) out.push(`Ours on wasm: ${num(o.result.params)} parameters, optimizer ${o.result.optimizer}, losses ${o.result.losses.map((x) => x.toFixed(3)).join(", ")}.`, "");
  const big = res("train-ours-tensorflow-124m");
  if (big !== undefined) {
    out.push("**The 124M model (`gpt2-small`: 12 layers, width 768, 12 heads, tied head) on tensorflow**, context 256, batch 4 (1,024 tokens a step), AdamW; tensorflow alone: its 1.8 GiB of training state is more than the wasm backend holds.", "");
    const bm = m("train-ours-tensorflow-124m", "tokensPerSec");
    const r = big.ok ? big.result : undefined;
    const losses = r?.losses ? r.losses.map((x) => x.toFixed(3)).join(", ") : "–";
    out.push(table(["backend", "matmul GFLOP/s", "tokens/s", "% of matmul", "peak RSS (MiB)", "losses (warm-up + timed steps)", "timed steps"], [[r ? backendLabel(r.backend) : "tensorflow", med(m("train-ours-tensorflow-124m", "matmul")), med(bm), r?.measurements?.shareOfMatmul !== undefined ? pct(r.measurements.shareOfMatmul) : "–", r?.peakRssMiB !== undefined ? num(r.peakRssMiB) : "–", losses, r?.stepsTimed !== undefined ? String(r.stepsTimed) : "–"]]), "");
  }
  for (const [id, what] of [["train-profile", '`createGPT("tiny")`'], ["train-profile-tensorflow", '`createGPT("tiny")`'], ["train-profile-tensorflow-124m", '`createGPT("gpt2-small")`, context 256 × batch 4,']]) {
    const p = res(id);
    if (p === undefined) continue;
    const where = p.ok ? backendLabel(p.result.backend) : id === "train-profile" ? "wasm" : "tensorflow";
    out.push(`**Profile of one ${what} step** (\`tf.profile\`, ${where}; kernel times summed by kernel name, top 10${id === "train-profile" ? "; the head kernel, which runs outside tfjs, by its own clock" : "; AdamW's fused TensorFlow kernel, which tf.profile does not see, by the wall clock of its step"}):`, "");
    if (p.ok) {
      out.push(table(["kernel", "calls", "ms", "share of kernel time"], p.result.top.map((k) => [k.name, String(k.calls), num(k.ms), pct(k.ms / p.result.totalMs)])));
      out.push("", `${p.result.kernelCalls} kernel calls (plus ${p.result.scopes ?? 0} scopes and composite kernels, left out: their time repeats their kernels'), ${num(p.result.totalMs)} ms of kernel time in a ${num(p.result.wallMs)} ms profiled step (profiling syncs after every kernel, so the step is slower than in the table above; wall minus kernel time is per-op overhead), ${p.result.newTensors} new tensors, peak ${num(p.result.peakBytes / 2 ** 20)} MiB.`);
    } else {
      out.push(`fails: ${p.error}`);
    }
    out.push("");
  }
  return out.join("\n");
}

/** The best PyTorch row (highest median tokens/s), for the training table's last column. */
export function torchBest(results, ids = ["torch-1", "torch-2"]) {
  let best;
  for (const id of ids) {
    const r = results[id];
    if (r?.ok && r.result.tokensPerSec) {
      const med = median(r.result.tokensPerSec);
      if (best === undefined || med > best.median) best = { id, median: med, threads: r.result.threads };
    }
  }
  return best;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function spread(xs) {
  return `**${num(median(xs))}** (${num(Math.min(...xs))}–${num(Math.max(...xs))})`;
}

function torchInfo(r) {
  // MKL is linked into torch's wheel; a `generic` BLAS is whatever libblas.so.3 resolves to.
  return `PyTorch ${r.torch} (CPU capability ${r.cpuCapability}, BLAS_INFO=${r.blasInfo}${r.blasInfo !== "mkl" && r.blas !== "unknown" ? `; \`libblas.so.3\` resolves to \`${r.blas}\`` : ""})`;
}

function torchSection({ res, m }, best, oursWasm) {
  const out = ["## 5. Reference: the same models in PyTorch on the same CPU", ""];
  const ids = ["torch-1", "torch-2", "torch-124m-1", "torch-124m-2", "torch-debian-1", "torch-debian-2"];
  if (ids.every((id) => res(id) === undefined)) return [...out, "not run", ""].join("\n");
  const oursTf = val(m("train-ours-tensorflow", "tokensPerSec"));
  const oursTf124 = val(m("train-ours-tensorflow-124m", "tokensPerSec"));
  const rowsFor = (group, ours) => {
    const rows = [];
    let info;
    for (const id of group) {
      const r = res(id);
      if (r === undefined) continue;
      if (!r.ok) {
        rows.push([id.split("-").at(-1), r.timedOut ? `> ${r.limitS} s, stopped` : `fails: ${r.error}`, "–", ...ours.map(() => "–")]);
        continue;
      }
      if (r.result.skipped) {
        rows.push([id.split("-").at(-1), `skipped: ${r.result.skipped}`, "–", ...ours.map(() => "–")]);
        continue;
      }
      info ??= r.result;
      const t = median(r.result.tokensPerSec);
      rows.push([String(r.result.threads), spread(r.result.sgemm), spread(r.result.tokensPerSec), ...ours.map((o) => (o !== undefined ? ratio(o, t) : "–"))]);
    }
    return { rows, info };
  };
  // tiny, torch 2.13 from the bench venv.
  const tiny = rowsFor(["torch-1", "torch-2"], [oursWasm, oursTf]);
  out.push(
    `**\`tiny\`** (batch 8 × 64)${tiny.info ? `: ${torchInfo(tiny.info)}` : ""}. Same config, pre-LayerNorm blocks, tanh GELU, tied head, AdamW (weight decay 0.1), ${tiny.info ? num(tiny.info.params) : "3,320,256"} parameters; \`torch.set_num_threads\`, \`OMP_NUM_THREADS\`, \`MKL_NUM_THREADS\` and \`OPENBLAS_NUM_THREADS\` set alike. sgemm = 1024³ \`a @ b\`. Tokens/s, higher is better.`,
    "",
    table(["threads", "sgemm GFLOP/s", "tokens/s", "ours (wasm) / this", "ours (tensorflow) / this"], tiny.rows),
    "",
  );
  if (best) out.push(`Best PyTorch row: ${best.threads} thread(s), ${num(best.median)} tokens/s (the figure the training table compares with).`, "");
  // 124M, torch 2.13.
  const big = rowsFor(["torch-124m-1", "torch-124m-2"], [oursTf124]);
  if (big.rows.length) {
    out.push(
      `**The 124M model** (\`gpt2-small\`: 12 layers, width 768, 12 heads, no qkv bias, dropout 0.1, tied head; ${big.info ? num(big.info.params) : "124,412,160"} parameters), context 256, batch 4, AdamW${big.info ? `: ${torchInfo(big.info)}` : ""}. Ours: \`createGPT("gpt2-small")\` on tensorflow (section 4).`,
      "",
      table(["threads", "sgemm GFLOP/s", "tokens/s", "ours (tensorflow) / this"], big.rows),
      "",
    );
    const bestBig = torchBest(res.all, ["torch-124m-1", "torch-124m-2"]);
    if (bestBig) out.push(`Best PyTorch row: ${bestBig.threads} thread(s), ${num(bestBig.median)} tokens/s; ours on tensorflow ${oursTf124 !== undefined ? num(oursTf124) : "–"} tokens/s (${ratio(oursTf124, bestBig.median)}).`, "");
  }
  // Footnote: Debian's PyTorch 1.13 + OpenBLAS, what earlier runs compared with.
  const deb = rowsFor(["torch-debian-1", "torch-debian-2"], [oursWasm]);
  const debRows = deb.rows.map((r) => (r[2] === "–" ? `${r[0]} thread(s): ${r[1]}` : `${r[0]} thread(s): ${r[2]} tokens/s (sgemm ${r[1]} GFLOP/s), ours (wasm) / this ${r[3]}`));
  out.push(`<sub>Footnote: Debian's \`python3-torch\` (${deb.info ? torchInfo(deb.info) : "PyTorch 1.13 + OpenBLAS"}), the reference of earlier runs, on \`tiny\`: ${debRows.length ? debRows.join("; ") : "not run"}.</sub>`, "");
  return out.join("\n");
}

function generationSection({ res, m }) {
  const ours = res("gen-ours-wasm");
  const hf = res("gen-transformers-1");
  const n = ours?.result?.newTokens ?? "?";
  const out = [
    `## 6. Generation: the \`gpt2\` (124M) shape, random weights, prompt 32 tokens, ${n} new tokens, greedy, batch 1`,
    "",
    "Tokens/s, higher is better. transformers' `generate` on torch (CPU) saves the random model with `save_pretrained`; ours loads that `model.safetensors` with `fromPretrained` and generates from the same weights. Ours runs wasm with 2 threads; transformers runs with 1 and with 2 threads.",
    "",
  ];
  const oursCached = val(m("gen-ours-wasm", "cachedTokensPerSec"));
  const oursUncached = val(m("gen-ours-wasm", "uncachedTokensPerSec"));
  const hfRow = (t) => {
    const c = val(m(`gen-transformers-${t}`, "cachedTokensPerSec"));
    const u = val(m(`gen-transformers-${t}`, "uncachedTokensPerSec"));
    return [`transformers${versions}, ${t} thread${t === 1 ? "" : "s"}`, med(m(`gen-transformers-${t}`, "cachedTokensPerSec")), med(m(`gen-transformers-${t}`, "uncachedTokensPerSec")), ratio(c, u), ratio(oursCached, c)];
  };
  const versions = hf?.result?.versions ? ` (torch ${hf.result.versions.torch}, transformers ${hf.result.versions.transformers})` : "";
  out.push(
    table(
      ["implementation", "with KV cache", "without (window re-run)", "cache / no cache", "ours (cached) / this (cached)"],
      [
        hfRow(1),
        hfRow(2),
        [`ours, ${backendLabel(ours?.result?.backend)}`, med(m("gen-ours-wasm", "cachedTokensPerSec")), med(m("gen-ours-wasm", "uncachedTokensPerSec")), ratio(oursCached, oursUncached), "–"],
      ],
    ),
    "",
  );
  const a = ours?.result?.ids;
  const b = hf?.result?.ids;
  let same = "not compared";
  if (Array.isArray(a) && Array.isArray(b)) {
    let k = 0;
    while (k < a.length && a[k] === b[k]) k++;
    same = k === a.length && a.length === b.length ? `equal (${a.length} ids)` : `equal for the first ${k - 32} new ids of ${a.length - 32}`;
  }
  out.push(
    `Loading the 124M \`model.safetensors\` (${"498 MB"}) with \`fromPretrained\` on wasm: ${med(m("gen-ours-wasm", "loadMs"))} ms. ` +
      `Greedy ids, ours vs transformers: ${same}. Peak RSS: ours ${ours?.result?.rssMB ? num(ours.result.rssMB) : "–"} MB, transformers ${hf?.result?.maxRssMB ? num(hf.result.maxRssMB) : "–"} MB.`,
    "",
  );
  return out.join("\n");
}

/** Issue targets, each checked against this run's figures. */
function browserSection({ res }) {
  const out = ["## 7. In the browser: headless Chromium, per tfjs backend", ""];
  const jobs = ["browser-micro", "browser-tiny"].map(res).filter((r) => r !== undefined);
  if (jobs.length === 0) return [...out, "not run", ""].join("\n");
  out.push(
    "Our GPT in the page `packages/web/test/gpu/index.html` (Vite on 127.0.0.1, Debian's headless Chromium, `--enable-unsafe-webgpu --enable-unsafe-swiftshader`): AdamW steps of batch 4 through the fused head + loss, then a warm KV-cache generation. Tokens/s, higher is better; sync reads = `dataSync`-style reads a training step makes (0 keeps a GPU busy). **On a device marked software (SwiftShader) this is a CPU emulating a GPU: a correctness run, not a GPU speed**; on a machine with a GPU, `node packages/web/scripts/measure-backends.mjs webgpu,webgl,wasm tiny` measures it (or `npm run bench -- --only browser` with `TFGPT_BENCH_BROWSER_TINY=webgpu,webgl,wasm`).",
    "",
  );
  const rows = [];
  for (const id of ["browser-micro", "browser-tiny"]) {
    const r = res(id);
    if (r === undefined) continue;
    const shape = id === "browser-micro" ? "micro (vocab 257, T 32, C 32)" : "tiny (vocab 50,257, T 64, C 64)";
    if (!r.ok || r.result.error) {
      rows.push([shape, "–", "–", r.ok ? r.result.error : r.timedOut ? `> ${r.limitS} s` : `fails: ${r.error}`, "–", "–", "–"]);
      continue;
    }
    for (const row of r.result.rows) {
      if (row.error) {
        rows.push([shape, row.backend, "–", `fails: ${row.error.slice(0, 160)}`, "–", "–", "–"]);
        continue;
      }
      const losses = row.losses.length ? `${row.losses[0].toFixed(3)} → ${row.losses[row.losses.length - 1].toFixed(3)}` : "–";
      rows.push([shape, row.backend, `${row.device}${row.software ? " (software)" : ""}`, num(row.trainTokensPerSecond), num(row.generateTokensPerSecond), losses, String(Math.max(...[row.syncReadsPerStep].flat()))]);
    }
  }
  out.push(table(["shape", "backend", "device", "train tokens/s", "generate tokens/s", "loss (first → last step)", "sync reads / step (most)"], rows), "");
  const tiny = res("browser-tiny");
  if (tiny?.ok && Array.isArray(tiny.result.rows) && !tiny.result.rows.some((r) => r.backend === "webgpu")) {
    out.push("`tiny` on webgpu is left out here: on SwiftShader one step of its [256, 50,257] head takes minutes. webgpu is checked at small vocabularies: `micro` above, and the Chromium tests (vocabulary 64, losses and logits equal to cpu's).", "");
  }
  return out.join("\n");
}

function targetsSection({ res, m }, best) {
  const rows = [];
  const check = (what, ok, figure) => rows.push([what, ok === undefined ? "not measured" : ok ? "met" : "**not met**", figure]);
  const mixOurs = val(m("tok-mix", "ours"));
  const mixJs = val(m("tok-mix", "js-tiktoken"));
  const mixEqual = res("tok-mix")?.result?.checks?.ours?.startsWith("equal");
  check("tokenizer: ids equal js-tiktoken on the text mix, ≥ 5× its MB/s (issue 7)", mixOurs && mixJs ? mixEqual && mixOurs / mixJs >= 5 : undefined, ratio(mixOurs, mixJs));
  const fOurs = val(m("tok-frankenstein", "ours"));
  const fGpt = val(m("tok-frankenstein", "gpt-tokenizer"));
  check("tokenizer: at least as fast as gpt-tokenizer on Frankenstein (issue 7)", fOurs && fGpt ? fOurs >= fGpt : undefined, ratio(fOurs, fGpt));
  const path = val(m("tok-path-ours-100000", "ours"));
  check("tokenizer: 100,000 repeated letters well under a second (issue 7)", path !== undefined ? path < 1000 : undefined, path !== undefined ? `${num(path)} ms` : "–");
  const ps = val(m("tok-parallel", "single"));
  const pp = val(m("tok-parallel", "parallel"));
  check("tokenizer: 2 workers ≥ 1.6× one thread (issue 7)", ps && pp ? pp / ps >= 1.6 : undefined, ratio(pp, ps));
  const emb = ["cpu", "wasm"].map((b) => val(m(`emb-ours-${b}`, "backwardMs")));
  check("embedding: 512-token backward through 50,257 × 64 in milliseconds on cpu and wasm (issue 3)", emb.every((x) => x !== undefined) ? emb.every((x) => x < 1000) : undefined, emb.map((x) => (x === undefined ? "–" : `${num(x)} ms`)).join(" / "));
  const w = res("train-ours-wasm");
  const share = w?.ok ? w.result.measurements.shareOfMatmul : undefined;
  check("training: tiny on wasm ≥ 40% of the wasm matmul rate (issue 3)", share !== undefined ? share >= 0.4 : undefined, pct(share));
  const tw = val(m("train-ours-wasm", "tokensPerSec"));
  const tt = val(m("train-ours-tensorflow", "tokensPerSec"));
  const tb = val(m("train-ours-tensorflow-124m", "tokensPerSec"));
  const bestBig = torchBest(res.all, ["torch-124m-1", "torch-124m-2"]);
  const v = best ? ` ${res(best.id)?.result?.torch?.split("+")[0] ?? ""}` : "";
  check(`training: tiny on tensorflow ≥ 1.0× PyTorch${v}, best thread count (issue 18)`, tt && best ? tt / best.median >= 1 : undefined, ratio(tt, best?.median));
  check(`training: tiny on wasm ≥ 0.8× PyTorch${v}, best thread count (issue 18; goal 1.0×)`, tw && best ? tw / best.median >= 0.8 : undefined, ratio(tw, best?.median));
  check(`training: 124M (context 256, batch 4) on tensorflow ≥ 1.0× PyTorch${v}, best thread count (issue 18)`, tb && bestBig ? tb / bestBig.median >= 1 : undefined, ratio(tb, bestBig?.median));
  const gOurs = val(m("gen-ours-wasm", "cachedTokensPerSec"));
  const gOursNo = val(m("gen-ours-wasm", "uncachedTokensPerSec"));
  const gHf = Math.max(...[1, 2].map((t) => val(m(`gen-transformers-${t}`, "cachedTokensPerSec")) ?? 0)) || undefined;
  check("generation: gpt2 greedy on wasm ≥ 1.0× transformers' generate, its best thread count (issue 13)", gOurs && gHf ? gOurs / gHf >= 1 : undefined, ratio(gOurs, gHf));
  check("generation: the KV cache ≥ 5× re-running the window at 128 new tokens (issue 13)", gOurs && gOursNo ? gOurs / gOursNo >= 5 : undefined, ratio(gOurs, gOursNo));
  return ["## Targets from the issues, checked in this run", "", table(["target", "status", "this run"], rows), ""].join("\n");
}

/** The whole markdown document. */
export function renderReport({ results, machine, mode, startedAt, wallS, backends }) {
  const acc = accessors(results);
  const best = torchBest(results);
  const oursWasm = val(acc.m("train-ours-wasm", "tokensPerSec"));
  const v = machine.versions;
  const head = [
    "# Benchmarks",
    "",
    "Generated by `npm run bench` (`bench/run.js`); do not edit by hand. Every row ran its baseline and ours in the same run, each group in its own Node process; figures are medians with the min–max spread of the repetitions in parentheses, after warm-up. Ratios are ours / baseline (for times, below 1 is better).",
    "",
    `- **Date**: ${startedAt.toISOString().replace("T", " ").slice(0, 16)} UTC; ${mode === "quick" ? "**--quick run** (short inputs, 2 repetitions: indicative only)" : "full run"}, ${num(wallS / 60)} minutes in all`,
    `- **Machine**: ${machine.cpu} (${machine.flags.join(", ") || "no AVX2"}), ${machine.cores} cores, ${num(machine.memoryGiB)} GiB memory, ${machine.os}`,
    `- **Software**: Node ${machine.node}, @tensorflow/tfjs ${v["@tensorflow/tfjs"]}, tfjs-backend-wasm ${v["@tensorflow/tfjs-backend-wasm"]}, js-tiktoken ${v["js-tiktoken"]}, gpt-tokenizer ${v["gpt-tokenizer"]}, tiktoken ${v.tiktoken}`,
    `- **Backends**: ${backends.length ? backends.join("; ") : "none ran"}`,
    "",
    "![throughput chart](bench-throughput.svg)",
    "",
  ].join("\n");
  return [head, targetsSection(acc, best), tokenizerSection(acc), datasetSection(acc), embeddingSection(acc), trainingSection(acc, best), torchSection(acc, best, oursWasm), generationSection(acc), browserSection(acc)].join("\n");
}
