/** `@tfgpt/common/node`: the Node-only helpers (atomic file and directory writes). The rest is in `@tfgpt/common`. */
export { exists, replaceDirAtomic, writeDirAtomic, writeFileAtomic } from "./files.js";
