/** `@tfgpt/common/node`: the Node-only helpers (files). Everything of the main entry too. */
export * from "./index.js";
export { writeFileAtomic, exists } from "./files.js";
