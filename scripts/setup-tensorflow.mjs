#!/usr/bin/env node
// npm run setup:tensorflow [-- --gpu] [-- --force]
//
// Installs @tensorflow/tfjs-node (or -gpu with --gpu) into node_modules WITHOUT touching any tracked
// file (npm install --no-save --ignore-scripts: the lockfile stays as it is), and builds its native
// addon offline against the TensorFlow C API shipped in a TensorFlow pip wheel, instead of the
// libtensorflow 2.9.1 tarball its install script downloads from Google's storage:
//   1. pip download --no-deps tensorflow-cpu==2.21.0 (index read from `pip config list`; cached
//      in ~/.cache/tfgpt, or $TFGPT_CACHE_DIR), or the wheel file given with --wheel / $TFGPT_TENSORFLOW_WHEEL
//   2. npm install @tensorflow/tfjs-node@<the installed @tensorflow/tfjs version> --ignore-scripts --no-save
//   3. unzip libtensorflow_cc.so.2, libtensorflow_framework.so.2 and include/ into the cache and link
//      them into the package's deps/ under the names its binding.gyp links against
//   4. node-pre-gyp install --build-from-source against this machine's Node headers (`npm config get nodedir`)
//   5. load the package in a fresh Node and report TensorFlow's version and device
// Idempotent: a package whose addon already loads is left as it is (--force rebuilds).
// Optional: npm ci / npm start / npm test never need it; with internet, `npm install
// @tensorflow/tfjs-node` (its own install script) works with tfgpt as well.
// Exit codes: 0 set up (or already), 3 the package or the wheel cannot be had here (no registry,
// no wheel on pip's index: .ci/run then skips the tensorflow pass), 1 anything else (a failed build).
import { execFileSync, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pipIndexArgs } from "./lib/pip.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const started = Date.now();
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (["--gpu", "--force", "--help"].includes(a)) continue;
  if (["--wheel", "--wheel-package", "--wheel-version"].includes(a) && args[i + 1] !== undefined) { i++; continue; }
  fail(`unknown argument ${JSON.stringify(a)}; allowed: --gpu, --force, --wheel FILE, --wheel-package NAME, --wheel-version VERSION`);
}
if (flag("--help")) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\nimport ")[0].replace(/^#!.*\n/, "").replace(/^\/\/ ?/gm, ""));
  process.exit(0);
}

const gpu = flag("--gpu");
const pkg = gpu ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
// The GPU package needs a CUDA build of libtensorflow: the `tensorflow` wheel (Linux x86_64) has one.
const wheelPackage = value("--wheel-package") ?? process.env.TFGPT_TENSORFLOW_WHEEL_PACKAGE ?? (gpu ? "tensorflow" : "tensorflow-cpu");
const wheelVersion = value("--wheel-version") ?? process.env.TFGPT_TENSORFLOW_WHEEL_VERSION ?? "2.21.0";
const wheelFile = value("--wheel") ?? process.env.TFGPT_TENSORFLOW_WHEEL;
const cacheDir = process.env.TFGPT_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "tfgpt");
const pkgDir = path.join(root, "node_modules", ...pkg.split("/"));

function log(line) {
  console.log(`setup:tensorflow: ${line}`);
}
function fail(line, code = 1) {
  console.error(`setup:tensorflow: error: ${line}`);
  process.exit(code);
}
/** Exit code of a missing source (package registry or wheel), as opposed to a failure. */
const UNAVAILABLE = 3;
function run(cmd, cmdArgs, options = {}) {
  return spawnSync(cmd, cmdArgs, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
}
function lastLine(text) {
  return (text ?? "").trim().split("\n").filter((l) => l.trim() !== "").at(-1) ?? "";
}
function readJSON(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}
function hashFile(file) {
  return fs.existsSync(file) ? crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex") : "absent";
}

// The addon loads in a fresh process: TensorFlow's version and whether it sees a GPU, else why not.
function probe() {
  const script = `
    const tf = require(${JSON.stringify(pkg)});
    const b = tf.backend();
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync();
    if (y[0] !== 3) throw new Error("matMul gave " + y[0]);
    console.log(JSON.stringify({ backend: tf.getBackend(), tensorflow: b.binding.TF_Version, gpu: b.isUsingGpuDevice === true }));`;
  const r = run(process.execPath, ["-e", script], { cwd: root, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" } });
  if (r.status !== 0) {
    const why = (r.stderr ?? "").split("\n").find((l) => /^\w*Error|cannot open|undefined symbol/.test(l)) ?? lastLine(r.stderr);
    return { ok: false, why: why.trim() };
  }
  return { ok: true, ...JSON.parse(lastLine(r.stdout)) };
}

// 0. the tfjs version tfjs-node must match (the one npm ci installed from the lockfile).
const tfjsPackage = path.join(root, "node_modules", "@tensorflow", "tfjs", "package.json");
if (!fs.existsSync(tfjsPackage)) fail("node_modules/@tensorflow/tfjs is missing: run `npm ci` first");
const version = readJSON(tfjsPackage).version;
const installedVersion = fs.existsSync(path.join(pkgDir, "package.json")) ? readJSON(path.join(pkgDir, "package.json")).version : undefined;

if (installedVersion === version && !flag("--force")) {
  const p = probe();
  if (p.ok) {
    log(`${pkg} ${version} already set up: loads TensorFlow ${p.tensorflow} (${p.gpu ? "GPU" : "CPU"}); nothing to do (--force rebuilds)`);
    process.exit(0);
  }
}

// 1. the wheel first (given, cached, or downloaded from pip's configured index): where it cannot be
//    had, node_modules is left as it was.
fs.mkdirSync(cacheDir, { recursive: true });
const wheelName = wheelPackage.replace(/-/g, "_");
let wheel = wheelFile === undefined ? undefined : path.resolve(wheelFile);
if (wheel !== undefined && !fs.existsSync(wheel)) fail(`--wheel / TFGPT_TENSORFLOW_WHEEL: no file ${wheel}`);
wheel ??= fs
  .readdirSync(cacheDir)
  .filter((f) => f.startsWith(`${wheelName}-${wheelVersion}-`) && f.endsWith(".whl"))
  .map((f) => path.join(cacheDir, f))[0];
if (wheel === undefined) {
  const indexArgs = pipIndexArgs();
  const pipArgs = ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", cacheDir, ...indexArgs, `${wheelPackage}==${wheelVersion}`];
  log(`python3 ${pipArgs.join(" ")}`);
  let r = run("python3", pipArgs, { timeout: 30 * 60_000 });
  if (r.status !== 0 && /no matching distribution|could not find a version/i.test(r.stderr ?? "")) {
    // The wheel is for CPython 3.11 on manylinux x86_64: this Python may be another version.
    const pinned = [...pipArgs.slice(0, -1), "--python-version", "3.11", "--platform", "manylinux_2_27_x86_64", pipArgs.at(-1)];
    r = run("python3", pinned, { timeout: 30 * 60_000 });
  }
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? r.error.message : lastLine(r.stderr) || `exit ${r.status}`;
    fail(`cannot get the ${wheelPackage}==${wheelVersion} wheel (${why}); pass one with --wheel FILE, or on a machine with internet run \`npm install ${pkg}\``, UNAVAILABLE);
  }
  wheel = fs
    .readdirSync(cacheDir)
    .filter((f) => f.startsWith(`${wheelName}-${wheelVersion}-`) && f.endsWith(".whl"))
    .map((f) => path.join(cacheDir, f))[0];
  if (wheel === undefined) fail(`pip download succeeded but left no ${wheelName}-${wheelVersion}-*.whl in ${cacheDir}`);
} else {
  log(`wheel ${wheel} (cached)`);
}

// 2. the npm package, with no install script and no change to package.json or the lockfile.
if (installedVersion !== version) {
  const tracked = ["package.json", "package-lock.json"].map((f) => path.join(root, f));
  const before = tracked.map(hashFile);
  const saved = tracked.map((f) => (fs.existsSync(f) ? fs.readFileSync(f) : undefined));
  log(`npm install ${pkg}@${version} --ignore-scripts --no-save`);
  const r = run("npm", ["install", `${pkg}@${version}`, "--ignore-scripts", "--no-save", "--no-audit", "--no-fund"], { cwd: root });
  const after = tracked.map(hashFile);
  tracked.forEach((f, i) => {
    if (before[i] !== after[i] && saved[i] !== undefined) fs.writeFileSync(f, saved[i]);
  });
  if (before.some((h, i) => h !== after[i])) fail(`npm install changed ${tracked.filter((_, i) => before[i] !== after[i]).map((f) => path.basename(f)).join(", ")} (restored); not continuing`);
  if (r.status !== 0) fail(`npm install ${pkg}@${version} failed: ${lastLine(r.stderr) || lastLine(r.stdout)}`, UNAVAILABLE);
}

// 3. the C API out of the wheel, once per wheel, into the cache (written to a temporary name then renamed).
const tfDir = path.join(cacheDir, path.basename(wheel, ".whl"));
const libs = ["libtensorflow_cc.so.2", "libtensorflow_framework.so.2"];
if (!fs.existsSync(path.join(tfDir, "include", "tensorflow", "c", "c_api.h"))) {
  log(`extracting ${libs.join(", ")} and include/ from ${path.basename(wheel)}`);
  const tmp = `${tfDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const py = `
import sys, zipfile, os, shutil
wheel, out, libs = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    for lib in libs:
        if "tensorflow/" + lib not in names:
            sys.exit("the wheel has no tensorflow/" + lib)
    for n in z.namelist():
        if n.endswith("/"):
            continue
        if n.startswith("tensorflow/include/"):
            dest = os.path.join(out, "include", n[len("tensorflow/include/"):])
        elif n[len("tensorflow/"):] in libs:
            dest = os.path.join(out, "lib", n[len("tensorflow/"):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(n) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
`;
  const r = run("python3", ["-c", py, wheel, tmp, libs.join(",")]);
  if (r.status !== 0) fail(`cannot extract the C API from ${wheel}: ${lastLine(r.stderr)}`);
  fs.rmSync(tfDir, { recursive: true, force: true });
  fs.renameSync(tmp, tfDir);
}

// 4. deps/ under binding.gyp's names: -ltensorflow (its soname is libtensorflow_cc.so.2), -ltensorflow_framework.
const depsDir = path.join(pkgDir, "deps");
fs.rmSync(depsDir, { recursive: true, force: true });
fs.mkdirSync(path.join(depsDir, "lib"), { recursive: true });
const links = {
  "libtensorflow.so": "libtensorflow_cc.so.2",
  "libtensorflow.so.2": "libtensorflow_cc.so.2",
  "libtensorflow.so.2.9.1": "libtensorflow_cc.so.2",
  "libtensorflow_cc.so.2": "libtensorflow_cc.so.2",
  "libtensorflow_framework.so": "libtensorflow_framework.so.2",
  "libtensorflow_framework.so.2": "libtensorflow_framework.so.2",
};
for (const [name, target] of Object.entries(links)) {
  fs.symlinkSync(path.join(tfDir, "lib", target), path.join(depsDir, "lib", name));
}
fs.symlinkSync(path.join(tfDir, "include"), path.join(depsDir, "include"));

// 5. the addon, against this machine's Node headers (node-gyp must not download any).
let nodedir = "";
try {
  nodedir = execFileSync("npm", ["config", "get", "nodedir"], { encoding: "utf8" }).trim();
} catch {}
if (nodedir === "" || nodedir === "undefined" || nodedir === "null") nodedir = path.resolve(path.dirname(process.execPath), "..");
if (!fs.existsSync(path.join(nodedir, "include", "node", "node_api.h"))) {
  fail(`no Node headers in ${nodedir}/include/node (npm config get nodedir); install your distribution's Node development headers or set npm_config_nodedir`);
}
const npmDir = path.resolve(path.dirname(process.execPath), "..", "lib", "node_modules", "npm");
const nodeGyp = [path.join(npmDir, "node_modules", "node-gyp", "bin", "node-gyp.js"), path.join(root, "node_modules", "node-gyp", "bin", "node-gyp.js")].find((f) => fs.existsSync(f));
const preGyp = path.join(root, "node_modules", "@mapbox", "node-pre-gyp", "bin", "node-pre-gyp");
if (!fs.existsSync(preGyp)) fail(`${preGyp} is missing (it comes with ${pkg}); rerun with --force`);
log(`building the addon: node-pre-gyp install --build-from-source --nodedir=${nodedir}`);
const buildLog = path.join(cacheDir, `build-${pkg.split("/")[1]}.log`);
const env = { ...process.env, npm_config_nodedir: nodedir, ...(nodeGyp === undefined ? {} : { npm_config_node_gyp: nodeGyp }) };
const build = run(process.execPath, [preGyp, "install", "--build-from-source", `--nodedir=${nodedir}`], { cwd: pkgDir, env });
fs.writeFileSync(buildLog, `${build.stdout ?? ""}\n${build.stderr ?? ""}`);
if (build.status !== 0) {
  const err = (build.stderr ?? "").split("\n").find((l) => /error:|not found|No such file/.test(l)) ?? lastLine(build.stderr);
  fail(`building the ${pkg} addon failed: ${err.trim()} (full log: ${buildLog})`);
}

// 6. it loads.
const p = probe();
if (!p.ok) fail(`${pkg} was built but does not load: ${p.why}`);
const secs = ((Date.now() - started) / 1000).toFixed(0);
log(`${pkg} ${version} built against TensorFlow ${p.tensorflow} from ${path.basename(wheel)} (C API in ${tfDir}) in ${secs} s; loads: backend ${p.backend}, ${p.gpu ? "GPU" : "CPU"}`);
