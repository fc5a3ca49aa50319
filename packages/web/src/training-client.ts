/**
 * The page's side of the training worker: starts it (a module worker, bundled by Vite) and
 * passes messages both ways. The main thread keeps no tfjs state: it renders what the worker says.
 */
import type { FromWorker, ToWorker } from "./training-protocol.js";

export class TrainingWorker {
  private readonly worker: Worker;
  private readonly listeners = new Set<(message: FromWorker) => void>();

  constructor() {
    this.worker = new Worker(new URL("./training-worker.ts", import.meta.url), { type: "module", name: "tfgpt-training" });
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => {
      for (const listener of [...this.listeners]) listener(event.data);
    };
    this.worker.onerror = (event) => {
      // A worker that fails to load or throws outside a handler: reported as an error of "init".
      const message: FromWorker = { type: "error", during: "init", model: -1, message: event.message || "the training worker failed to start" };
      for (const listener of [...this.listeners]) listener(message);
    };
  }

  send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** Calls `listener` with every message; returns the unsubscribe function. */
  on(listener: (message: FromWorker) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next message of `type`; rejects on an error reported for a `during` request. */
  next<T extends FromWorker["type"]>(type: T, during: ToWorker["type"]): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const off = this.on((message) => {
        if (message.type === type) {
          off();
          resolve(message as Extract<FromWorker, { type: T }>);
        } else if (message.type === "error" && message.during === during) {
          off();
          reject(new Error(message.message));
        }
      });
    });
  }
}
