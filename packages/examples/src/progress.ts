/** The progress bar of `tfgpt train`: `@tfgpt/layers`' `Progress` (also behind its Node `fit` callback). */
export { formatDuration, Progress, renderBar, type ProgressArgs, type ProgressStream } from "@tfgpt/layers";
