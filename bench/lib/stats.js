// Repetition statistics: every figure in the report is a median with its min-max spread.

/** Median, min and max of a list of numbers (the samples are copied, not sorted in place). */
export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN, n: 0, samples: [] };
  const median = n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1], n, samples };
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function now() {
  return performance.now();
}

/**
 * Times `fn` `reps` times after `warmup` untimed calls; returns the per-call milliseconds.
 * `fn` may be async. Keeps the last result alive until the next call so nothing is measured twice.
 */
export async function timeReps(fn, { reps, warmup = 1 }) {
  for (let i = 0; i < warmup; i++) await fn();
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    await fn();
    ms.push(now() - t0);
  }
  return ms;
}

/**
 * Round-robin timing of several contenders on the same input: one warm-up call each, then
 * `reps` rounds in which every contender runs once. Interleaving spreads the noise of a shared
 * machine over all contenders instead of penalising whichever ran during a busy moment.
 * Returns { name: ms[] }; a contender that throws is recorded as { error }.
 */
export async function roundRobin(contenders, { reps, warmup = 1 }) {
  const out = {};
  for (const [name, fn] of Object.entries(contenders)) {
    out[name] = [];
    try {
      for (let i = 0; i < warmup; i++) await fn();
    } catch (err) {
      out[name] = { error: errorText(err) };
    }
  }
  for (let r = 0; r < reps; r++) {
    for (const [name, fn] of Object.entries(contenders)) {
      if (!Array.isArray(out[name])) continue;
      try {
        const t0 = now();
        await fn();
        out[name].push(now() - t0);
      } catch (err) {
        out[name] = { error: errorText(err) };
      }
    }
  }
  return out;
}

/** One line of an error, for tables ("fails: <this>"). */
export function errorText(err) {
  const msg = err instanceof Error ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : String(err);
  return msg.split("\n")[0].slice(0, 200);
}

/** A measurement: samples in `unit` plus their summary. */
export function measurement(samples, unit, extra = {}) {
  return { unit, ...summarize(samples), ...extra };
}

/**
 * Imports one of our packages' built entries; an unbuilt package becomes a short, clear error
 * ("@tfgpt/layers is not built: run npm run build") instead of a resolver stack trace.
 */
export async function importOurs(specifier) {
  try {
    return await import(specifier);
  } catch (err) {
    if (err?.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("@tfgpt/")) {
      throw new Error(`${specifier} is not built (run npm run build)`);
    }
    throw err;
  }
}
