/** `@tfgpt/datasets/tf`: the TensorFlow.js adapters (imports `@tensorflow/tfjs`, a peer dependency). */
export {
  toTfDataset,
  toTensors,
  ToTfDatasetOptionsSchema,
  ToTensorsOptionsSchema,
  type TensorBatch,
  type ToTfDatasetOptions,
  type ToTensorsOptions,
  type WindowTensors,
} from "./tf-dataset.js";
