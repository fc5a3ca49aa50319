import { describe, expect, it } from "vitest";
import { DataLoader, type Batch, type DataLoaderState } from "../src/data-loader.js";
import { GPTDataset } from "../src/gpt-dataset.js";
import { iota, referenceBatches, referenceWindows, rows, testRandom } from "./python-reference.js";

/** Window start of each row, readable because token i == i. */
function starts(batch: Batch): number[] {
  return rows(batch.inputs, batch.maxLength).map((r) => r[0] as number);
}

function epochStarts(loader: DataLoader): number[] {
  return [...loader].flatMap(starts);
}

describe("DataLoader against the Python loop", () => {
  it("yields GPTDatasetV1 + DataLoader(shuffle=False) batches for many settings", () => {
    const rand = testRandom(2024);
    let compared = 0;
    for (let trial = 0; trial < 400; trial++) {
      const maxLength = 1 + rand(10);
      const stride = 1 + rand(12);
      const batchSize = 1 + rand(9);
      const dropLast = rand(2) === 1;
      const n = maxLength + 1 + rand(80);
      const ids = Array.from({ length: n }, () => rand(50257));
      const ref = referenceBatches(referenceWindows(ids, maxLength, stride), batchSize, dropLast);
      const ds = new GPTDataset(ids, { maxLength, stride });
      if (ref.length === 0) {
        expect(() => new DataLoader(ds, { batchSize, dropLast })).toThrow(/an epoch would have no batch/);
        continue;
      }
      const loader = new DataLoader(ds, { batchSize, dropLast });
      expect(loader.numBatches).toBe(ref.length);
      const got = [...loader];
      expect(got.length).toBe(ref.length);
      got.forEach((b, i) => {
        const want = ref[i]!;
        expect(b.batchSize).toBe(want.inputs.length);
        expect(b.maxLength).toBe(maxLength);
        expect(b.inputs).toBeInstanceOf(Int32Array);
        expect(b.inputs.length).toBe(b.batchSize * maxLength);
        expect(rows(b.inputs, maxLength)).toEqual(want.inputs);
        expect(rows(b.targets, maxLength)).toEqual(want.targets);
      });
      compared++;
    }
    expect(compared).toBeGreaterThan(300);
  });

  it("keeps the last partial batch unless dropLast", () => {
    const ds = new GPTDataset(iota(12), { maxLength: 2, stride: 1 }); // 10 windows
    const kept = new DataLoader(ds, { batchSize: 4 });
    expect(kept.numBatches).toBe(3);
    expect([...kept].map((b) => b.batchSize)).toEqual([4, 4, 2]);
    const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
    expect([...dropped].map((b) => b.batchSize)).toEqual([4, 4]);
  });

  it("copies into fresh arrays per batch (the caller may keep or mutate them)", () => {
    const ids = new Int32Array(iota(20));
    const loader = new DataLoader(new GPTDataset(ids, { maxLength: 3, stride: 3 }), { batchSize: 2 });
    const a = loader.batchAt(0, 0);
    a.inputs[0] = 999;
    expect(ids[0]).toBe(0);
    expect(loader.batchAt(0, 0).inputs[0]).toBe(0);
  });
});

describe("DataLoader epochs and shuffling", () => {
  const ds = new GPTDataset(iota(200), { maxLength: 4, stride: 2 }); // 98 windows

  it("runs one epoch per for-of loop and is in order every epoch without shuffle", () => {
    const loader = new DataLoader(ds, { batchSize: 10 });
    const first = epochStarts(loader);
    expect(loader.epoch).toBe(1);
    expect(loader.batchIndex).toBe(0);
    expect(first).toEqual(iota(98).map((i) => i * 2));
    expect(epochStarts(loader)).toEqual(first);
    expect(loader.epoch).toBe(2);
  });

  it("visits every window once per shuffled epoch, a different order each epoch", () => {
    const loader = new DataLoader(ds, { batchSize: 10, shuffle: true, seed: 5 });
    const e0 = epochStarts(loader);
    const e1 = epochStarts(loader);
    const all = iota(98).map((i) => i * 2);
    expect([...e0].sort((a, b) => a - b)).toEqual(all);
    expect([...e1].sort((a, b) => a - b)).toEqual(all);
    expect(e0).not.toEqual(all);
    expect(e1).not.toEqual(e0);
  });

  it("is reproducible per seed and differs between seeds", () => {
    const run = (seed: number) => {
      const loader = new DataLoader(ds, { batchSize: 7, shuffle: true, seed });
      return [epochStarts(loader), epochStarts(loader)];
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
    expect(run(2 ** 40 + 1)).not.toEqual(run(1)); // the seed's high bits count
  });

  it("shards each epoch over ranks: disjoint and complete", () => {
    for (const worldSize of [1, 2, 3, 5, 7]) {
      for (const shuffle of [false, true]) {
        for (const epoch of [0, 1]) {
          const seen: number[] = [];
          for (let rank = 0; rank < worldSize; rank++) {
            const loader = new DataLoader(ds, { batchSize: 4, shuffle, seed: 9, rank, worldSize });
            expect(loader.numSamples).toBe(Math.ceil((98 - rank) / worldSize));
            for (let b = 0; b < loader.numBatches; b++) seen.push(...starts(loader.batchAt(epoch, b)));
          }
          expect(seen.length).toBe(98);
          expect(new Set(seen).size).toBe(98);
        }
      }
    }
  });

  it("crosses epochs with nextBatch", () => {
    const loader = new DataLoader(ds, { batchSize: 40, shuffle: true, seed: 3, dropLast: true }); // 2 batches
    const b = [loader.nextBatch(), loader.nextBatch(), loader.nextBatch()];
    expect(loader.epoch).toBe(1);
    expect(loader.batchIndex).toBe(1);
    expect(b[2]).toEqual(loader.batchAt(1, 0));
    expect(b[0]).toEqual(loader.batchAt(0, 0));
  });
});

describe("DataLoader state and restore", () => {
  const ds = new GPTDataset(iota(300), { maxLength: 5, stride: 3 }); // 99 windows
  const options = { batchSize: 8, shuffle: true, seed: 77, dropLast: false };

  it("resumes mid-epoch exactly where an uninterrupted loader goes on", () => {
    const uninterrupted = new DataLoader(ds, options);
    const want: Batch[] = [];
    for (let i = 0; i < 30; i++) want.push(uninterrupted.nextBatch()); // 13 batches per epoch: crosses 2 epochs

    for (const stopAt of [0, 1, 5, 12, 13, 14, 25]) {
      const first = new DataLoader(ds, options);
      const got: Batch[] = [];
      for (let i = 0; i < stopAt; i++) got.push(first.nextBatch());
      const saved = JSON.parse(JSON.stringify(first.state())) as DataLoaderState;
      const resumed = new DataLoader(ds, options);
      resumed.restore(saved);
      for (let i = stopAt; i < 30; i++) got.push(resumed.nextBatch());
      expect(got).toEqual(want);
    }
  });

  it("resumes a for-of loop broken off mid-epoch", () => {
    const a = new DataLoader(ds, options);
    const seen: number[][] = [];
    for (const batch of a) {
      seen.push(starts(batch));
      if (seen.length === 4) break;
    }
    expect(a.state()).toMatchObject({ epoch: 0, batchIndex: 4 });
    const b = new DataLoader(ds, options);
    b.restore(a.state());
    const rest = [...b].map(starts);
    expect(b.epoch).toBe(1);
    const whole = [...new DataLoader(ds, options)].map(starts);
    expect([...seen, ...rest]).toEqual(whole);
    expect([...a].map(starts)).toEqual(rest); // the broken-off loader continues the same way
  });

  it("refuses a state from other settings or another dataset, naming the field", () => {
    const saved = new DataLoader(ds, options).state();
    expect(() => new DataLoader(ds, { ...options, seed: 78 }).restore(saved)).toThrow(
      /the state was saved with `seed` 77, this loader has 78/,
    );
    expect(() => new DataLoader(ds, { ...options, batchSize: 4 }).restore(saved)).toThrow(/`batchSize` 8, this loader has 4/);
    const other = new GPTDataset(iota(301), { maxLength: 5, stride: 2 });
    expect(() => new DataLoader(other, options).restore(saved)).toThrow(/`numWindows` 99, this loader has 148/);
    expect(() => new DataLoader(ds, options).restore({ ...saved, batchIndex: 13 })).toThrow(
      /`batchIndex` must be below numBatches 13, received 13/,
    );
    expect(() => new DataLoader(ds, options).restore({ ...saved, epoch: -1 })).toThrow(
      /invalid state field `epoch`: `epoch` must be a non-negative integer, received -1/,
    );
  });
});

describe("DataLoader option errors", () => {
  const ds = new GPTDataset(iota(50), { maxLength: 4, stride: 4 }); // 12 windows
  it.each([
    [{ batchSize: 0 }, /`batchSize` must be a positive integer, received 0/],
    [{ batchSize: 2.5 }, /`batchSize` must be a positive integer, received 2.5/],
    [{ shuffle: "yes" }, /`shuffle` must be true or false, received "yes"/],
    [{ dropLast: 1 }, /`dropLast` must be true or false, received 1/],
    [{ seed: -1 }, /`seed` must be a non-negative safe integer, received -1/],
    [{ seed: 0.5 }, /`seed` must be a non-negative safe integer, received 0.5/],
    [{ rank: -1 }, /`rank` must be a non-negative integer, received -1/],
    [{ worldSize: 0 }, /`worldSize` must be a positive integer, received 0/],
    [{ rank: 2, worldSize: 2 }, /`rank` must be an integer in \[0, 2\) \(below `worldSize`\), received 2/],
    [{ batch_size: 4 }, /DataLoader has no option `batch_size` \(known: batchSize, shuffle, seed, dropLast, rank, worldSize\)/],
    [{ batchSize: 13, dropLast: true }, /the dataset has 12 windows, fewer than `batchSize` 13 with `dropLast` true: an epoch would have no batch/],
    [{ batchSize: 5, dropLast: true, rank: 2, worldSize: 3 }, /rank 2 of 3 gets 4 windows, fewer than `batchSize` 5/],
  ])("rejects %j", (options, message) => {
    expect(() => new DataLoader(ds, options as never)).toThrow(message);
  });

  it("rejects options that are not an object and batch indices out of range", () => {
    expect(() => new DataLoader(ds, 3 as never)).toThrow(/DataLoader options must be an object, received 3/);
    const loader = new DataLoader(ds, { batchSize: 5 });
    expect(() => loader.batchAt(0, 3)).toThrow(/batch `index` must be an integer in \[0, 3\), received 3/);
    expect(() => loader.batchAt(-1, 0)).toThrow(/`epoch` must be a non-negative integer, received -1/);
  });
});
