import { DataLoaderOptionsSchema } from "@tfgpt/datasets";
import { TrainerOptionsSchema } from "@tfgpt/layers";
import type { AppState } from "../app-state.js";
import { card, field, h, select } from "../dom.js";
import { checkedNumber } from "../form.js";
import { LossChart } from "../loss-chart.js";
import { TOKENIZER_NAMES, type TokenizerName } from "../tokenizer-choice.js";
import type { TrainingWorker } from "../training-client.js";
import type { FromWorker } from "../training-protocol.js";
import { MODEL_SHAPES, type ModelShape } from "../trainer.js";

/** The model the worker holds, as the page knows it. */
export interface ModelHandle {
  /** The model's number (messages about other numbers are stale). */
  readonly id: number;
  readonly tokenizer: TokenizerName;
  /** Steps trained so far. */
  readonly step: number;
}

/** What the sampling panel needs from training: the worker and the current model, if any. */
export interface TrainingHandle {
  readonly element: HTMLElement;
  readonly worker: TrainingWorker;
  model(): ModelHandle | undefined;
  /** Calls `listener` whenever the model is created, steps, stops or is dropped. */
  onChange(listener: () => void): void;
}

/** Validation every this many steps: about 20 points a run, at least 10 and at most 100 steps apart. */
export function evalEvery(steps: number): number {
  return Math.min(100, Math.max(10, Math.ceil(steps / 20)));
}

/** "42 s", "3 min 5 s", "1 h 2 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * The training panel: settings (model shape, tokenizer, batch size, learning rate, steps per
 * run; numbers checked with the library's schemas, Train disabled while one is invalid),
 * Train / Stop / Resume, Download, a live chart of the train and validation losses, step N of M
 * with an ETA, loss and tokens/s. Training runs in the worker; the model is rebuilt there when a
 * setting or the text changes, otherwise Resume continues the same run.
 */
export function trainingPanel(state: AppState, worker: TrainingWorker, backendName: () => string, savedStep: number | undefined): TrainingHandle {
  const root = card("training", "3 · Train a GPT", "Next-token training on the text above, in a background worker of this page, with tfjs. Windows of the model's context length, shuffled, stride = context length; the last 10% of the text is held out for the validation loss.");
  const shape = select("model-shape", Object.keys(MODEL_SHAPES).map((k) => [k, describeShape(k as ModelShape)] as const), "tiny");
  const tokenizer = select("train-tokenizer", TOKENIZER_NAMES.map((n) => [n, n] as const), "gpt2");
  const validity = () => refreshButtons();
  const batchSize = checkedNumber("batch size", "batch-size", 8, DataLoaderOptionsSchema.shape.batchSize, validity, 1);
  const learningRate = checkedNumber("learning rate", "learning-rate", 0.004, TrainerOptionsSchema.shape.learningRate, validity);
  const stepsPerRun = checkedNumber("steps per run", "steps-per-run", 200, TrainerOptionsSchema.shape.totalSteps, validity, 1);
  const trainButton = h("button", { class: "primary", "data-testid": "train" }, "Train");
  const stopButton = h("button", { "data-testid": "stop", disabled: true }, "Stop");
  const resetButton = h("button", { "data-testid": "reset" }, "Reset model");
  const saveButton = h("button", { "data-testid": "save", disabled: true, title: "Keeps the model, optimizer, step, data position, text and settings in this browser (IndexedDB)" }, "Save in browser");
  const loadButton = h("button", { "data-testid": "load", disabled: savedStep === undefined, title: "Continues the run saved in this browser" }, "Load saved");
  const downloadButton = h("button", { "data-testid": "download", disabled: true, title: "The checkpoint files (model.json, weights.bin, optimizer.json, optimizer.bin, state.json): @tfgpt/layers' Trainer.fromCheckpoint loads them" }, "Download model");
  const chart = new LossChart();

  const stat = (testId: string, label: string, wide = false) => {
    const value = h("span", { class: "value", "data-testid": testId }, "–");
    return { value, element: h("div", { class: wide ? "stat wide" : "stat" }, h("span", { class: "label" }, label), value) };
  };
  const status = stat("train-status", "status");
  const stepValue = h("span", { "data-testid": "step" }, "–");
  const stepTarget = h("span", { "data-testid": "step-target" }, "–");
  const stepStat = { value: stepValue, element: h("div", { class: "stat wide" }, h("span", { class: "label" }, "step"), h("span", { class: "value" }, stepValue, h("span", { class: "of" }, " of "), stepTarget)) };
  const eta = stat("eta", "ETA");
  const startLoss = stat("loss-start", "first loss");
  const lossStat = stat("loss-now", "loss (smoothed)");
  const valStat = stat("val-loss", "validation loss");
  const speed = stat("tokens-per-second", "tokens / s");
  const modelStat = stat("model-info", "model", true);
  const message = h("p", { class: "note", "data-testid": "train-message" });

  root.append(
    h(
      "div",
      { class: "controls" },
      field("model", shape),
      field("tokenizer", tokenizer),
      batchSize.element,
      learningRate.element,
      stepsPerRun.element,
      h("div", { class: "buttons" }, trainButton, stopButton, resetButton, downloadButton, saveButton, loadButton),
    ),
    h("div", { class: "stats-row" }, status.element, stepStat.element, eta.element, startLoss.element, lossStat.element, valStat.element, speed.element, modelStat.element),
    chart.canvas,
    message,
  );

  const listeners: Array<() => void> = [];
  const changed = () => listeners.forEach((l) => l());
  let nextId = 0;
  let model: ModelHandle | undefined;
  let running = false;
  let losses: number[] = [];
  let speedAverage = 0;
  let target = 0;
  let runStart = 0;
  let saved = savedStep;
  let restoring = false; // the text and settings a loaded checkpoint brings must not drop it
  let secondsPerStep = 0;
  let lastStepAt = 0;

  let smoothed = 0;
  let statsPending = false;
  const setText = (el: HTMLElement, text: string) => {
    if (el.textContent !== text) el.textContent = text;
  };
  function renderStats(): void {
    statsPending = false;
    if (model === undefined) return;
    setText(stepValue, String(model.step));
    setText(lossStat.value, smoothed.toFixed(3));
    setText(speed.value, speedAverage === 0 ? "…" : Math.round(speedAverage).toLocaleString("en"));
    if (running) setText(eta.value, secondsPerStep === 0 ? "…" : formatDuration((target - model.step) * secondsPerStep));
    refreshButtons();
    changed();
  }

  function refreshButtons(): void {
    const valid = [batchSize, learningRate, stepsPerRun].every((f) => f.value() !== undefined);
    trainButton.disabled = running || !valid;
    stopButton.disabled = !running;
    downloadButton.disabled = model === undefined || model.step === 0;
    saveButton.disabled = running || model === undefined || model.step === 0;
    loadButton.disabled = running || saved === undefined;
  }

  const drop = (why: string, tellWorker = true) => {
    if (model !== undefined && tellWorker) worker.send({ type: "reset" });
    model = undefined;
    running = false;
    losses = [];
    smoothed = 0;
    chart.reset();
    for (const s of [stepValue, stepTarget, eta.value, startLoss.value, lossStat.value, valStat.value, speed.value, modelStat.value]) s.textContent = "–";
    status.value.textContent = "idle";
    trainButton.textContent = "Train";
    message.textContent = why;
    refreshButtons();
    changed();
  };

  const build = async (): Promise<ModelHandle | undefined> => {
    const batch = batchSize.value();
    const rate = learningRate.value();
    if (batch === undefined || rate === undefined) return undefined;
    const id = ++nextId;
    const tokenizerName = tokenizer.value as TokenizerName;
    const built = worker.next("built", "build");
    worker.send({ type: "build", model: id, text: state.text, settings: { shape: shape.value as ModelShape, tokenizer: tokenizerName, batchSize: batch, learningRate: rate, seed: 1 } });
    try {
      const { summary: c } = await built;
      if (id !== nextId) return undefined; // replaced meanwhile
      modelStat.value.textContent = `${formatCount(c.params)} params · V ${c.vocabSize.toLocaleString("en")} · T ${c.contextLength} · C ${c.embeddingDim}`;
      chart.reset(Math.log(c.vocabSize));
      const held = c.valWindows > 0 ? `, ${c.valWindows.toLocaleString("en")} held out` : " (too little text to hold out a validation window)";
      message.textContent = `${c.windows.toLocaleString("en")} training windows of ${c.contextLength} tokens${held} · backend ${backendName()}`;
      return { id, tokenizer: tokenizerName, step: 0 };
    } catch (error) {
      message.textContent = `Cannot train: ${error instanceof Error ? error.message : String(error)}`;
      return undefined;
    }
  };

  const run = async () => {
    const steps = stepsPerRun.value();
    if (running || steps === undefined) return;
    running = true; // no second click while the model builds
    refreshButtons();
    model ??= await build();
    if (model === undefined) {
      running = false;
      refreshButtons();
      return;
    }
    runStart = model.step;
    target = model.step + steps;
    stepTarget.textContent = String(target);
    eta.value.textContent = "…";
    secondsPerStep = 0;
    lastStepAt = performance.now();
    status.value.textContent = "training";
    refreshButtons();
    changed();
    worker.send({ type: "train", steps, evalEvery: evalEvery(steps) });
  };

  worker.on((m: FromWorker) => {
    if (model === undefined || !("model" in m) || m.model !== model.id) return;
    switch (m.type) {
      case "progress": {
        const firstOfReport = m.step - m.losses.length + 1;
        model = { ...model, step: m.step };
        for (const loss of m.losses) {
          losses.push(loss);
          smoothed = losses.length === 1 ? loss : 0.9 * smoothed + 0.1 * loss; // smooth(losses).at(-1), incrementally
          chart.push(loss);
        }
        const now = performance.now();
        // Seconds a step (validations included), from the time between reports; the report with the
        // run's first step (graph building, kernel compilation) is left out.
        if (firstOfReport > runStart + 1) {
          const seconds = (now - lastStepAt) / 1000 / m.losses.length;
          secondsPerStep = secondsPerStep === 0 ? seconds : 0.7 * secondsPerStep + 0.3 * seconds;
        }
        lastStepAt = now;
        if (m.step > 1) speedAverage = speedAverage === 0 ? m.tokensPerSecond : 0.7 * speedAverage + 0.3 * m.tokensPerSecond;
        if (firstOfReport === 1) startLoss.value.textContent = (m.losses[0] as number).toFixed(3);
        // The figures are drawn once a frame, however many steps came since.
        if (!statsPending) {
          statsPending = true;
          requestAnimationFrame(renderStats);
        }
        return;
      }
      case "eval":
        chart.pushValidation(m.step, m.valLoss);
        valStat.value.textContent = m.valLoss.toFixed(3);
        return;
      case "trained":
        running = false;
        model = { ...model, step: m.step };
        renderStats();
        status.value.textContent = m.stopped ? "stopped" : "done";
        eta.value.textContent = m.stopped ? "–" : "0 s";
        trainButton.textContent = "Resume";
        refreshButtons();
        changed();
        return;
      case "error":
        if (m.during === "train") {
          running = false;
          status.value.textContent = "failed";
          message.textContent = `Training failed: ${m.message}`;
          refreshButtons();
          changed();
        }
        return;
      default:
        return;
    }
  });

  trainButton.addEventListener("click", () => void run());
  stopButton.addEventListener("click", () => worker.send({ type: "stop" }));
  resetButton.addEventListener("click", () => drop("Model reset: Train starts from fresh weights."));
  downloadButton.addEventListener("click", () => {
    void (async () => {
      const files = worker.next("files", "download");
      worker.send({ type: "download" });
      try {
        const { files: blobs, step } = await files;
        for (const [name, blob] of Object.entries(blobs)) {
          const url = URL.createObjectURL(blob);
          h("a", { href: url, download: name }).click();
          setTimeout(() => URL.revokeObjectURL(url), 60_000);
        }
        message.textContent = `Downloaded the model after ${step} steps: ${Object.keys(blobs).join(", ")} (keep them in one folder; @tfgpt/layers' readCheckpointFiles + Trainer.fromCheckpoint load them).`;
      } catch (error) {
        message.textContent = `Download failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    })();
  });
  saveButton.addEventListener("click", () => {
    void (async () => {
      const done = worker.next("saved", "save");
      worker.send({ type: "save" });
      try {
        saved = (await done).step;
        message.textContent = `Saved in this browser at step ${saved}: Load saved continues from there, also after a reload.`;
      } catch (error) {
        message.textContent = `Saving failed: ${error instanceof Error ? error.message : String(error)}`;
      }
      refreshButtons();
    })();
  });
  loadButton.addEventListener("click", () => {
    void (async () => {
      if (running) return;
      const id = ++nextId;
      const done = worker.next("loaded", "load");
      worker.send({ type: "load", model: id });
      try {
        const loaded = await done;
        if (id !== nextId) return;
        drop("", false); // the worker holds the loaded model already
        restoring = true;
        try {
          state.setText(loaded.text);
          shape.value = loaded.settings.shape;
          tokenizer.value = loaded.settings.tokenizer;
          batchSize.set(loaded.settings.batchSize);
          learningRate.set(loaded.settings.learningRate);
        } finally {
          restoring = false;
        }
        model = { id, tokenizer: loaded.settings.tokenizer, step: loaded.step };
        const c = loaded.summary;
        modelStat.value.textContent = `${formatCount(c.params)} params · V ${c.vocabSize.toLocaleString("en")} · T ${c.contextLength} · C ${c.embeddingDim}`;
        chart.reset(Math.log(c.vocabSize));
        stepValue.textContent = String(loaded.step);
        status.value.textContent = "loaded";
        trainButton.textContent = "Resume";
        message.textContent = `Loaded the run saved in this browser at step ${loaded.step}: Resume continues it.`;
        refreshButtons();
        changed();
      } catch (error) {
        message.textContent = `Loading failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    })();
  });
  for (const control of [shape, tokenizer, batchSize.input, learningRate.input]) {
    control.addEventListener("change", () => {
      if (model !== undefined && !restoring) drop("Settings changed: Train builds a new model.");
    });
  }
  state.onText(() => {
    if (model !== undefined && !restoring) drop("The text changed: Train builds a new model on it.");
  });
  status.value.textContent = "idle";
  chart.reset();
  refreshButtons();

  return {
    element: root,
    worker,
    model: () => model,
    onChange: (listener) => listeners.push(listener),
  };
}

/** "tiny: context 64, width 64, 2 layers". */
function describeShape(name: ModelShape): string {
  const s = MODEL_SHAPES[name];
  return `${name}: context ${s.contextLength}, width ${s.embeddingDim}, ${s.numLayers} layers`;
}

/** 34,112 -> "34.1k", 3,290,000 -> "3.29M". */
function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}
