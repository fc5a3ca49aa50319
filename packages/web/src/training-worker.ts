/**
 * The training worker (a module worker: `new Worker(new URL("./training-worker.ts", import.meta.url),
 * { type: "module" })`): the tfjs backend is started here (webgpu > webgl > wasm > cpu, as
 * `initBackend` picks), and the model trains, evaluates, samples and saves here, so the page's
 * main thread only renders. Messages: see training-protocol.ts.
 */
import { initBackend } from "./backend.js";
import { indexedDbCheckpoint } from "./checkpoint-idb.js";
import { PROGRESS_INTERVAL_MS, type FromWorker, type ModelSummary, type ToWorker } from "./training-protocol.js";
import { Trainer } from "./trainer.js";

const scope = self as unknown as { postMessage(message: FromWorker): void; onmessage: ((event: MessageEvent<ToWorker>) => void) | null };
const post = (message: FromWorker) => scope.postMessage(message);
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

let trainer: Trainer | undefined;
let model = 0;
let running = false;
let stopRequested = false;
/** The checkpoint kept in this browser (one: the page's "Save in browser"). */
const stored = indexedDbCheckpoint("page");

/** Resolves after the messages already queued have been handled (a zero-delay task; setTimeout would add >= 4 ms once nested). */
const channel = new MessageChannel();
const waiting: Array<() => void> = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}

/** Drops the current trainer (a running loop disposes it once its step ends). */
function drop(): void {
  if (running) stopRequested = true;
  else trainer?.dispose();
  trainer = undefined;
}

async function validate(t: Trainer, id: number): Promise<void> {
  const valLoss = await t.validationLoss();
  if (valLoss !== undefined && trainer === t) post({ type: "eval", model: id, step: t.step, valLoss });
}

async function train(steps: number, evalEvery: number): Promise<void> {
  const t = trainer;
  const id = model;
  if (t === undefined) throw new Error("no model: build one first");
  if (running) throw new Error("already training");
  running = true;
  stopRequested = false;
  const target = t.step + steps;
  let evaluatedAt = -1;
  let losses: number[] = [];
  let tokensPerSecond = 0;
  let reportedAt = performance.now();
  const report = () => {
    if (losses.length > 0 && trainer === t) post({ type: "progress", model: id, step: t.step, losses, tokensPerSecond });
    losses = [];
    reportedAt = performance.now();
  };
  try {
    while (!stopRequested && trainer === t && t.step < target) {
      const result = await t.trainStep();
      losses.push(result.loss);
      tokensPerSecond = result.tokensPerSecond;
      const evaluate = result.step % evalEvery === 0 || result.step === target;
      if (evaluate || result.step === 1 || performance.now() - reportedAt >= PROGRESS_INTERVAL_MS) report();
      if (evaluate) {
        await validate(t, id);
        evaluatedAt = result.step;
      }
      await yieldToMessages(); // lets "stop" (and "generate") in
    }
    report();
    if (trainer === t) {
      if (evaluatedAt !== t.step && t.step > 0) await validate(t, id);
      post({ type: "trained", model: id, step: t.step, stopped: stopRequested });
    }
  } finally {
    running = false;
    if (trainer !== t) t.dispose();
  }
}

async function generate(request: Extract<ToWorker, { type: "generate" }>): Promise<void> {
  const t = trainer;
  const id = model;
  if (t === undefined) throw new Error("no model: train one first");
  const started = performance.now();
  const made: number[] = [];
  await t.generate(request.prompt, { temperature: request.temperature, topK: request.topK, maxTokens: request.maxTokens, seed: request.seed }, (next) => {
    made.push(next);
    post({ type: "text", model: id, text: t.tokenizer.decode(made) });
  });
  post({ type: "generated", model: id, tokens: made.length, seconds: (performance.now() - started) / 1000, step: t.step });
}

function summarize(t: Trainer): ModelSummary {
  const c = t.config;
  return { params: t.params, vocabSize: c.vocabSize, contextLength: c.contextLength, embeddingDim: c.embeddingDim, windows: t.windows, valWindows: t.valWindows };
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case "init":
      post({ type: "ready", info: await initBackend(message.backend), savedStep: await stored.step().catch(() => undefined) });
      return;
    case "build": {
      drop();
      model = message.model;
      const t = new Trainer(message.text, message.settings);
      trainer = t;
      post({ type: "built", model: message.model, summary: summarize(t) });
      return;
    }
    case "save": {
      const t = trainer;
      if (t === undefined) throw new Error("no model: train one first");
      await t.save(stored);
      post({ type: "saved", model, step: t.step });
      return;
    }
    case "load": {
      const t = await Trainer.restore(await stored.load());
      drop();
      model = message.model;
      trainer = t;
      post({ type: "loaded", model: message.model, summary: summarize(t), text: t.text, settings: t.settings, step: t.step });
      return;
    }
    case "train":
      return train(message.steps, message.evalEvery);
    case "stop":
      stopRequested = true;
      return;
    case "reset":
      drop();
      return;
    case "generate":
      return generate(message);
    case "download": {
      const t = trainer;
      if (t === undefined) throw new Error("no model: train one first");
      post({ type: "files", model, step: t.step, files: await t.checkpointFiles() });
      return;
    }
  }
}

scope.onmessage = (event) => {
  const message = event.data;
  const id = model;
  handle(message).catch((error: unknown) => {
    console.error(error);
    post({ type: "error", during: message.type, model: message.type === "build" ? message.model : id, message: describe(error) });
  });
};
