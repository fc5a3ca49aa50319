/** The progress bar of `tfgpt train`: `@tfgpt/layers/internal`'s `Progress` (also behind its Node `fit` callback). */
export { formatDuration, Progress, renderBar, type ProgressArgs, type ProgressStream } from "@tfgpt/layers/internal";
