/**
 * The messages between the page (main thread: renders only) and the training worker
 * (training-worker.ts: the tfjs backend, the model, the `Trainer`, sampling). `model` numbers the
 * model a message is about: the page drops messages about a model it has since replaced.
 */
import type { BackendChoice, BackendInfo } from "./backend-choice.js";
import type { TrainerSettings } from "./trainer.js";

/** The worker reports training progress at most this often (and at each validation, and at the end). */
export const PROGRESS_INTERVAL_MS = 250;

/** Page -> worker. */
export type ToWorker =
  | { readonly type: "init"; readonly backend: BackendChoice }
  /** Builds model number `model` on `text` (the previous one is dropped). */
  | { readonly type: "build"; readonly model: number; readonly text: string; readonly settings: TrainerSettings }
  /** Trains `steps` more steps, with a validation loss every `evalEvery` steps and at the end. */
  | { readonly type: "train"; readonly steps: number; readonly evalEvery: number }
  | { readonly type: "stop" }
  | { readonly type: "reset" }
  | { readonly type: "generate"; readonly prompt: string; readonly temperature: number; readonly topK: number | undefined; readonly maxTokens: number; readonly seed: number }
  | { readonly type: "download" }
  /** Saves the model's checkpoint in this browser (IndexedDB). */
  | { readonly type: "save" }
  /** Replaces the model by the checkpoint saved in this browser, as model number `model`. */
  | { readonly type: "load"; readonly model: number };

/** What the page shows of a built model. */
export interface ModelSummary {
  readonly params: number;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly embeddingDim: number;
  readonly windows: number;
  readonly valWindows: number;
}

/** Worker -> page. */
export type FromWorker =
  /** The backend started; `savedStep`: the step of the checkpoint saved in this browser, if any. */
  | { readonly type: "ready"; readonly info: BackendInfo; readonly savedStep: number | undefined }
  | { readonly type: "built"; readonly model: number; readonly summary: ModelSummary }
  /**
   * Steps done since the last report (at most one report per {@link PROGRESS_INTERVAL_MS}, so a
   * fast model does not flood the page): `losses` of steps `step - losses.length + 1 .. step`,
   * and the tokens/s of the last of them.
   */
  | { readonly type: "progress"; readonly model: number; readonly step: number; readonly losses: readonly number[]; readonly tokensPerSecond: number }
  | { readonly type: "eval"; readonly model: number; readonly step: number; readonly valLoss: number }
  /** A `train` request ended: its steps done, or stopped. */
  | { readonly type: "trained"; readonly model: number; readonly step: number; readonly stopped: boolean }
  /** The text generated so far. */
  | { readonly type: "text"; readonly model: number; readonly text: string }
  | { readonly type: "generated"; readonly model: number; readonly tokens: number; readonly seconds: number; readonly step: number }
  /** The checkpoint files of the model now (`download`). */
  | { readonly type: "files"; readonly model: number; readonly step: number; readonly files: Record<string, Blob> }
  | { readonly type: "saved"; readonly model: number; readonly step: number }
  /** The saved checkpoint is model number `model` now: its text, settings and step. */
  | { readonly type: "loaded"; readonly model: number; readonly summary: ModelSummary; readonly text: string; readonly settings: TrainerSettings; readonly step: number }
  | { readonly type: "error"; readonly during: ToWorker["type"]; readonly model: number; readonly message: string };
