// The Python the bench's PyTorch and transformers rows run with: what a user gets from
// `pip install torch` (torch 2.13, CPU build, MKL + oneDNN), in a venv the bench creates once and
// reuses, or the interpreter named by $TFGPT_BENCH_PYTHON. Debian's /usr/bin/python3 (PyTorch 1.13
// + OpenBLAS when python3-torch is installed) runs only the footnote row.
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipIndexArgs } from "../../scripts/lib/pip.mjs";

export const TORCH_VERSION = "2.13.0";
const PACKAGES = [`torch==${TORCH_VERSION}`, "transformers", "safetensors", "numpy"];
const PROBE = `import torch, transformers; assert torch.__version__.split("+")[0] == "${TORCH_VERSION}", torch.__version__`;

function cacheDir() {
  return process.env.TFGPT_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "tfgpt");
}

function probe(python) {
  const r = spawnSync(python, ["-c", PROBE], { encoding: "utf8" });
  return r.status === 0 ? undefined : (r.stderr || r.error?.message || "").trim().split("\n").at(-1);
}

/**
 * Returns `{ python, note }`: `$TFGPT_BENCH_PYTHON` when set (used as given), else the venv
 * `<cache>/bench-venv-torch-2.13` (`$TFGPT_CACHE_DIR`, default ~/.cache/tfgpt), created on first
 * use with pip's configured index (`pip config list`). When it cannot be made, `python` is
 * undefined and `note` says why (the rows are then reported as skipped with that reason).
 */
export function benchPython(log = () => {}) {
  const given = process.env.TFGPT_BENCH_PYTHON;
  if (given) return { python: given, note: `$TFGPT_BENCH_PYTHON (${given})` };
  const venv = path.join(cacheDir(), `bench-venv-torch-${TORCH_VERSION.split(".").slice(0, 2).join(".")}`);
  const python = path.join(venv, "bin", "python");
  if (existsSync(python) && probe(python) === undefined) return { python, note: `venv ${venv} (reused)` };
  log(`bench: creating ${venv} (torch ${TORCH_VERSION} CPU build, transformers) from pip's configured index; once, a few minutes`);
  const tmp = `${venv}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const steps = [
    ["python3", ["-m", "venv", tmp]],
    [path.join(tmp, "bin", "python"), ["-m", "pip", "install", "-q", ...pipIndexArgs(), ...PACKAGES]],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30 * 60_000 });
    if (r.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      const why = (r.stderr || r.error?.message || "").trim().split("\n").filter(Boolean).at(-1) ?? `exit ${r.status}`;
      return { python: undefined, note: `could not create the bench venv: ${why}` };
    }
  }
  // A venv records its own path in its scripts; the interpreter itself works from the new name.
  rmSync(venv, { recursive: true, force: true });
  renameSync(tmp, venv);
  const bad = probe(python);
  if (bad !== undefined) return { python: undefined, note: `the bench venv does not import torch ${TORCH_VERSION}: ${bad}` };
  return { python, note: `venv ${venv} (created)` };
}
