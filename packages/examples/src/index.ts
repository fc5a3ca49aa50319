/**
 * `@tfgpt/examples`: the `tfgpt` command line (bin `tfgpt`) and the pieces it is made of, for
 * programs and tests that want them without spawning the CLI. Node only.
 */
export { CliError, UsageError } from "./errors.js";
export { memoryIO, type CommandIO } from "./io.js";
export { runTokenize, TokenizeConfigSchema, type TokenizeConfig } from "./tokenize.js";
export { firstBatch, runBatches, BatchesConfigSchema, type BatchesConfig, type BatchRows } from "./batches.js";
export { runTrain, evaluateLoss, MAX_EVAL_WINDOWS, TrainConfigSchema, type TrainConfig } from "./train.js";
export { RunSettingsSchema, type RunSettings } from "./train-config.js";
export { runSample, SampleConfigSchema, type SampleConfig } from "./sample.js";
export { runWalkthrough, WalkthroughConfigSchema, type WalkthroughConfig } from "./walkthrough.js";
export { chapter2, type Chapter2Result } from "./ch02-pipeline.js";
export {
  CHECKPOINT_FILES,
  CheckpointStateSchema,
  LATEST_FILE,
  loadCheckpoint,
  readCheckpointState,
  resolveCheckpointDir,
  loaderStateOf,
  readOptimizerWeights,
  writeDirAtomic,
  writeFileAtomic,
  type CheckpointState,
  type LoadedCheckpoint,
} from "./checkpoint.js";
export { generateText, streamText } from "./generate.js";
export { GPT2_VOCAB_SIZE, isPretrainedDir, pretrainedConfig, pretrainedTokenizer, type DirTokenizer } from "./pretrained-dir.js";
export { Progress, formatDuration, renderBar, type ProgressArgs, type ProgressStream } from "./progress.js";
export { renderLossSvg, niceTicks, type LossSeries, type LossPlotOptions } from "./plot.js";
export { RunMetrics, METRICS_FILE, PLOT_FILE, type MetricRecord } from "./metrics.js";
export { DEFAULT_TEXT_PATH, readTextFile, type NewlineMode } from "./text-file.js";
