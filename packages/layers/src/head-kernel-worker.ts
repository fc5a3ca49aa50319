// A worker thread of the head kernel (`enableHeadKernelThreads`): waits for a job in the shared
// control block, claims shares of tiles until none is left, reports done; leaves when a newer pool
// replaces its own (setWorkers bumps the epoch) or it is terminated.
import { workerData } from "node:worker_threads";
import { Field, instantiateHeadKernel, runHeadTiles } from "./head-kernel.js";

interface HeadWorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: number;
  epoch: number;
  slot: number;
}

const { module, memory, control, epoch, slot } = workerData as HeadWorkerData;
const kernel = instantiateHeadKernel(module, memory);
const ctrl = new Int32Array(memory.buffer, control, Field.Size);
let seen = Atomics.load(ctrl, Field.Gen);
Atomics.store(ctrl, Field.ReadyBase + slot, epoch);
for (;;) {
  Atomics.wait(ctrl, Field.Gen, seen);
  const gen = Atomics.load(ctrl, Field.Gen);
  if (gen === seen) continue;
  seen = gen;
  // A newer pool replaced this one: leave (the thread ends once its event loop is empty).
  if (Atomics.load(ctrl, Field.Epoch) !== epoch) break;
  // A ticket beyond the job's participants: this worker started after the job was counted.
  if (Atomics.add(ctrl, Field.Joined, 1) >= Atomics.load(ctrl, Field.Participants)) continue;
  try {
    runHeadTiles(kernel, ctrl);
  } catch {
    Atomics.store(ctrl, Field.Failed, 1);
  }
  Atomics.add(ctrl, Field.Done, 1);
  Atomics.notify(ctrl, Field.Done);
}
