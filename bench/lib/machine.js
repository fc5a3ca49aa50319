// What the report says about the machine and the software it measured.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "./data.js";

function cpuModel() {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    if (line) return line.split(":")[1].trim();
  } catch {
    // not Linux: os.cpus() below
  }
  return os.cpus()[0]?.model ?? "unknown";
}

function cpuFlags() {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("flags"));
    const flags = new Set(line.split(":")[1].trim().split(/\s+/));
    return ["avx2", "fma", "avx512f"].filter((f) => flags.has(f));
  } catch {
    return [];
  }
}

/** A package's installed version, read from node_modules (undefined when absent). */
export function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(repoRoot, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

/** Machine and software facts for the report header. */
export function machineInfo() {
  return {
    cpu: cpuModel(),
    flags: cpuFlags(),
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    versions: Object.fromEntries(
      ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "js-tiktoken", "gpt-tokenizer", "tiktoken"].map((n) => [n, packageVersion(n)]),
    ),
  };
}
