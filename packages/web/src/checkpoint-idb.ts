/**
 * `indexedDbCheckpoint`: a `CheckpointIO` (`@tfgpt/layers`) that keeps one checkpoint per name in
 * the browser's IndexedDB (database `tfgpt`, store `checkpoints`), so the page can save a run and
 * resume it after a reload. The whole checkpoint (model artifacts, optimizer moments, step,
 * options, loader position, the page's extras) is one record written in one transaction: the old
 * record stays until the new one has committed, so a crash leaves one or the other. (tf.io's
 * `indexeddb://` handler stores the model alone, in its own transaction: the optimizer and the
 * step written beside it could disagree with it after a crash.) Works in a worker.
 */
import * as tf from "@tensorflow/tfjs";
import type { CheckpointIO, TrainerCheckpoint } from "@tfgpt/layers";

const DATABASE = "tfgpt";
const STORE = "checkpoints";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error(`IndexedDB ${DATABASE} could not be opened`));
  });
}

/** Runs one request in a transaction on the store; resolves when the transaction has committed. */
async function run<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onabort = tx.onerror = () => reject(tx.error ?? request.error ?? new Error("IndexedDB transaction failed"));
    });
  } finally {
    db.close();
  }
}

/** A `CheckpointIO` on IndexedDB under `name`, plus `step()`: the saved step, or undefined when none is saved. */
export function indexedDbCheckpoint(name: string): CheckpointIO & { step(): Promise<number | undefined> } {
  return {
    async save(checkpoint: TrainerCheckpoint) {
      const m = checkpoint.model;
      // One ArrayBuffer (tfjs may hand several), so the record is plain structured-cloneable data.
      const weightData = m.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(m.weightData);
      await run("readwrite", (store) => store.put({ ...checkpoint, model: { ...m, weightData } }, name));
    },
    async load() {
      const record = (await run("readonly", (store) => store.get(name))) as TrainerCheckpoint | undefined;
      if (record === undefined) throw new Error(`no checkpoint "${name}" saved in this browser (IndexedDB ${DATABASE}/${STORE})`);
      return record;
    },
    async step() {
      const record = (await run("readonly", (store) => store.get(name))) as TrainerCheckpoint | undefined;
      return record?.state.step;
    },
  };
}
