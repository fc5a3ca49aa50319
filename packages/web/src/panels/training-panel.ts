import * as tf from "@tensorflow/tfjs";
import type { AppState } from "../app-state.js";
import { card, field, h, numberInput, readNumber, select } from "../dom.js";
import { LossChart, smooth } from "../loss-chart.js";
import { TOKENIZER_NAMES, type TokenizerName } from "../tokenizer-choice.js";
import { MODEL_SHAPES, Trainer, type ModelShape } from "../trainer.js";

/** What the sampling panel needs from training: the current trainer, if any. */
export interface TrainingHandle {
  readonly element: HTMLElement;
  trainer(): Trainer | undefined;
  /** Calls `listener` whenever the trainer is created, steps, stops or is dropped. */
  onChange(listener: () => void): void;
}

/**
 * The training panel: settings (model shape, tokenizer, batch size, learning rate, steps per
 * run), Train / Stop / Resume, a live loss chart and the step, loss and tokens/s. The trainer is
 * rebuilt when a setting or the text changes; otherwise Resume continues the same run.
 */
export function trainingPanel(state: AppState, backendName: () => string): TrainingHandle {
  const root = card("training", "3 · Train a GPT", "Next-token training on the text above, in this page, with tfjs. Windows of the model's context length, shuffled, stride = context length.");
  const shape = select("model-shape", Object.keys(MODEL_SHAPES).map((k) => [k, describeShape(k as ModelShape)] as const), "tiny");
  const tokenizer = select("train-tokenizer", TOKENIZER_NAMES.map((n) => [n, n] as const), "gpt2");
  const batchSize = numberInput("batch-size", 8, 1, 64);
  const learningRate = numberInput("learning-rate", 0.004, 0.00001, 0.1, 0.0001);
  const stepsPerRun = numberInput("steps-per-run", 200, 1, 100000);
  const trainButton = h("button", { class: "primary", "data-testid": "train" }, "Train");
  const stopButton = h("button", { "data-testid": "stop", disabled: true }, "Stop");
  const resetButton = h("button", { "data-testid": "reset" }, "Reset model");
  const chart = new LossChart();

  const stat = (testId: string, label: string, wide = false) => {
    const value = h("span", { class: "value", "data-testid": testId }, "–");
    return { value, element: h("div", { class: wide ? "stat wide" : "stat" }, h("span", { class: "label" }, label), value) };
  };
  const status = stat("train-status", "status");
  const stepStat = stat("step", "step");
  const startLoss = stat("loss-start", "first loss");
  const lossStat = stat("loss-now", "loss (smoothed)");
  const speed = stat("tokens-per-second", "tokens / s");
  const modelStat = stat("model-info", "model", true);
  const message = h("p", { class: "note", "data-testid": "train-message" });

  root.append(
    h(
      "div",
      { class: "controls" },
      field("model", shape),
      field("tokenizer", tokenizer),
      field("batch size", batchSize),
      field("learning rate", learningRate),
      field("steps per run", stepsPerRun),
      h("div", { class: "buttons" }, trainButton, stopButton, resetButton),
    ),
    h("div", { class: "stats-row" }, status.element, stepStat.element, startLoss.element, lossStat.element, speed.element, modelStat.element),
    chart.canvas,
    message,
  );

  const listeners: Array<() => void> = [];
  const changed = () => listeners.forEach((l) => l());
  let trainer: Trainer | undefined;
  let running = false;
  let stopRequested = false;
  let losses: number[] = [];
  let speedAverage = 0;

  const drop = (why: string) => {
    if (running) stopRequested = true;
    else trainer?.dispose(); // a running loop disposes its trainer itself once the step ends
    trainer = undefined;
    losses = [];
    chart.reset();
    for (const s of [stepStat, startLoss, lossStat, speed, modelStat]) s.value.textContent = "–";
    status.value.textContent = "idle";
    trainButton.textContent = "Train";
    message.textContent = why;
    changed();
  };

  const build = (): Trainer | undefined => {
    try {
      const t = new Trainer(state.text, {
        shape: shape.value as ModelShape,
        tokenizer: tokenizer.value as TokenizerName,
        batchSize: readNumber(batchSize),
        learningRate: readNumber(learningRate, true),
        seed: 1,
      });
      const c = t.config;
      modelStat.value.textContent = `${formatCount(t.params)} params · V ${c.vocabSize.toLocaleString("en")} · T ${c.contextLength} · C ${c.embeddingDim}`;
      chart.reset(Math.log(c.vocabSize));
      message.textContent = `${t.windows.toLocaleString("en")} training windows of ${c.contextLength} tokens · backend ${backendName()}`;
      return t;
    } catch (error) {
      message.textContent = `Cannot train: ${error instanceof Error ? error.message : String(error)}`;
      return undefined;
    }
  };

  const run = async () => {
    trainer ??= build();
    if (trainer === undefined) return;
    const current = trainer;
    running = true;
    stopRequested = false;
    trainButton.disabled = true;
    stopButton.disabled = false;
    status.value.textContent = "training";
    changed();
    const target = current.step + readNumber(stepsPerRun);
    try {
      while (!stopRequested && current.step < target) {
        const result = await current.trainStep();
        if (trainer !== current) break; // dropped mid-step (settings changed)
        losses.push(result.loss);
        chart.push(result.loss);
        // Skip the first step (graph building, kernel compilation) in the speed average.
        speedAverage = result.step <= 1 ? 0 : speedAverage === 0 ? result.tokensPerSecond : 0.9 * speedAverage + 0.1 * result.tokensPerSecond;
        stepStat.value.textContent = String(result.step);
        if (result.step === 1) startLoss.value.textContent = result.loss.toFixed(3);
        lossStat.value.textContent = (smooth(losses).at(-1) ?? result.loss).toFixed(3);
        speed.value.textContent = speedAverage === 0 ? "…" : Math.round(speedAverage).toLocaleString("en");
        changed();
        await tf.nextFrame(); // let the page paint and handle Stop
      }
    } catch (error) {
      if (trainer === current) message.textContent = `Training failed: ${error instanceof Error ? error.message : String(error)}`;
      console.error(error);
    } finally {
      running = false;
      trainButton.disabled = false;
      stopButton.disabled = true;
      if (trainer !== current) current.dispose();
      else {
        status.value.textContent = stopRequested ? "stopped" : "done";
        trainButton.textContent = "Resume";
      }
      changed();
    }
  };

  trainButton.addEventListener("click", () => void run());
  stopButton.addEventListener("click", () => {
    stopRequested = true;
  });
  resetButton.addEventListener("click", () => drop("Model reset: Train starts from fresh weights."));
  for (const control of [shape, tokenizer, batchSize, learningRate]) {
    control.addEventListener("change", () => {
      if (trainer !== undefined) drop("Settings changed: Train builds a new model.");
    });
  }
  state.onText(() => {
    if (trainer !== undefined) drop("The text changed: Train builds a new model on it.");
  });
  status.value.textContent = "idle";
  chart.reset();

  return {
    element: root,
    trainer: () => trainer,
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
