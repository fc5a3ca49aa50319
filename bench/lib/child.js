// The parent/child protocol: each benchmark row runs in its own Node process (isolated backend
// and memory); the child prints one `BENCH_RESULT <json>` line, the parent enforces a time limit.
import { spawn } from "node:child_process";

const MARK = "BENCH_RESULT ";

/** In a child: parse the JSON argument the parent passed (argv[2]). */
export function childArgs() {
  return JSON.parse(process.argv[2] ?? "{}");
}

/** In a child: send the result to the parent and exit (workers or wasm threads must not keep us alive). */
export function sendResult(result) {
  process.stdout.write(`\n${MARK}${JSON.stringify(result)}\n`, () => process.exit(0));
}

/**
 * In the parent: runs `command args...` with a time limit. Resolves to
 * { ok: true, result, seconds } or { ok: false, error, timedOut, seconds } (never rejects).
 */
export function runChild(command, args, { timeoutMs, env = {}, log = () => {}, cwd }) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      log(`  time limit of ${Math.round(timeoutMs / 1000)} s reached, stopping pid ${child.pid}`);
      child.kill("SIGKILL");
    }, timeoutMs);
    let spawnError;
    child.on("error", (err) => {
      spawnError = err;
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (spawnError !== undefined) {
        resolve({ ok: false, error: `could not start ${command}: ${spawnError.message}`, timedOut: false, seconds: 0 });
        return;
      }
      const seconds = (performance.now() - t0) / 1000;
      const line = stdout.split("\n").find((l) => l.startsWith(MARK));
      if (line !== undefined) {
        resolve({ ok: true, result: JSON.parse(line.slice(MARK.length)), seconds });
        return;
      }
      const lines = stderr
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("at ") && !l.startsWith("Node.js v") && !l.includes("looks like you are running TensorFlow.js") && !/^=+$/.test(l));
      const lastErr = [...lines].reverse().find((l) => /(Error|error:|Traceback)/.test(l)) ?? lines.at(-1);
      const error = timedOut
        ? `stopped at the ${Math.round(timeoutMs / 1000)} s limit`
        : `exited with ${signal ?? code}${lastErr ? `: ${lastErr.slice(0, 200)}` : ""}`;
      resolve({ ok: false, error, timedOut, seconds });
    });
  });
}
