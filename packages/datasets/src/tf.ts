/** `@tfgpt/datasets/tf`: the TensorFlow.js adapters (imports `@tensorflow/tfjs`, a peer dependency). */
export {
  toTfDataset,
  toTensors,
  type TensorBatch,
  type ToTfDatasetOptions,
  type ToTensorsOptions,
  type WindowTensors,
} from "./tf-dataset.js";
