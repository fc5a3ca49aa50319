import "./style.css";
import { AppState } from "./app-state.js";
import { BACKEND_CHOICES, describeBackend, parseBackendChoice } from "./backend-choice.js";
import { h, select } from "./dom.js";
import { samplingPanel } from "./panels/sampling-panel.js";
import { textPanel } from "./panels/text-panel.js";
import { tokensPanel } from "./panels/tokens-panel.js";
import { trainingPanel } from "./panels/training-panel.js";
import { windowsPanel } from "./panels/windows-panel.js";
import { TrainingWorker } from "./training-client.js";

/**
 * Entry point: starts the training worker, which starts the tfjs backend
 * (`?backend=webgpu|webgl|wasm|cpu` in the address forces one), then builds the page from its
 * panels, which share the text through `AppState`. The main thread only renders: the model
 * trains and samples in the worker.
 */
async function main(): Promise<void> {
  const app = document.getElementById("app");
  if (app === null) throw new Error("index.html has no #app element");
  const params = new URLSearchParams(location.search);
  const asked = params.get("backend") ?? "auto";
  const choice = parseBackendChoice(asked);

  const backendSelect = select("backend-select", BACKEND_CHOICES.map((b) => [b, b] as const), choice);
  const backendLabel = h("span", { class: "pill", "data-testid": "backend" }, "starting…");
  const backendWhy = h("span", { class: "backend-why", "data-testid": "backend-why" }, "");
  backendSelect.addEventListener("change", () => {
    params.set("backend", backendSelect.value);
    location.search = params.toString(); // a backend switch reloads: models live on one backend
  });
  app.append(
    h(
      "header",
      {},
      h("div", {}, h("h1", {}, "tfgpt in the browser"), h("p", { class: "subtitle" }, "Tokenize a text, cut it into training windows, train a small GPT on it and sample from it: all in this tab, with TensorFlow.js.")),
      h("div", { class: "backend" }, h("label", { class: "field" }, h("span", {}, "backend"), backendSelect), backendLabel, backendWhy),
    ),
  );

  const worker = new TrainingWorker();
  const ready = worker.next("ready", "init");
  worker.send({ type: "init", backend: choice });
  const { info, savedStep } = await ready;
  backendLabel.textContent = info.name;
  backendLabel.title = info.notes.join("\n") || `tfjs backend ${info.name}`;
  // Which device, and why the better backends were passed over (e.g. "skipped webgpu: software device …").
  backendWhy.textContent = [describeBackend(info), ...info.notes].join("; ");

  const state = new AppState();
  const text = textPanel(state);
  const windows = windowsPanel(state);
  const tokens = tokensPanel(state, windows.setTokenizer);
  const training = trainingPanel(state, worker, () => info.name, savedStep);
  app.append(text, tokens, windows.element, training.element, samplingPanel(training));
  document.body.dataset.ready = "true";
}

main().catch((error: unknown) => {
  document.body.append(h("pre", { class: "fatal" }, `The page failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}`));
  console.error(error);
});
