/** `@tfgpt/common/node`: the Node-only helpers (atomic file and directory writes). The rest is in `@tfgpt/common`. */
export { exists, writeDirAtomic, writeFileAtomic } from "./files.js";
