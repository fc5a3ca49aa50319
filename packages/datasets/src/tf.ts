/** `@tfgpt/datasets/tf`: the TensorFlow.js adapters (imports `@tensorflow/tfjs`, a peer dependency). */
export { toTfDataset, toTensors, type TensorBatch, type ToTfDatasetOptions } from "./tf-dataset.js";
