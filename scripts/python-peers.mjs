#!/usr/bin/env node
import { spawnSync } from "node:child_process";
// Installs the real Python peers of the remote-bus specs (Jumpstarter 0.9.0,
// python-can 4.6, can-isotp: scripts/python-peers.txt) into the venv
// target/py-peers. Cached: when the venv answers and its stamp records the hash
// of the requirements and of the base Python, it does nothing (the `npm test`
// path on every run). Otherwise it rebuilds the venv from scratch; a failed
// install removes the half-built venv, so the specs see the peers as missing.
// Prints one line. Exits 1 on failure, or 0 after a warning with --optional
// (`npm test`: the peer specs then skip, or fail under CI=true).
// Needs `python3 -m venv` (Debian: python3-venv). PYTHON overrides the Python used.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const venv = join(root, "target", "py-peers");
const requirements = join(root, "scripts", "python-peers.txt");
const stamp = join(venv, "requirements.sha256");
const venvPython = process.platform === "win32" ? join(venv, "Scripts", "python.exe") : join(venv, "bin", "python");
const optional = process.argv.includes("--optional");
const started = Date.now();

/** Runs a command; its stdout, or undefined when it could not run or failed. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
  return result.status === 0 ? result.stdout : undefined;
}

/** The base Python (`PYTHON` if set, else the first of python3 and python that runs) and its version line. */
function basePython() {
  for (const candidate of process.env.PYTHON ? [process.env.PYTHON] : ["python3", "python"]) {
    const version = run(candidate, ["-c", "import sys; print(sys.version)"]);
    if (version !== undefined) return { command: candidate, version: version.trim() };
  }
  return undefined;
}

function fail(message, detail = "") {
  if (detail) process.stderr.write(`${detail.trimEnd().split("\n").slice(-15).join("\n")}\n`);
  if (optional) {
    console.warn(`warning: python peers not installed (${message}); the Jumpstarter/socketcand peer specs skip, or fail under CI=true`);
    process.exit(0);
  }
  console.error(`python peers: ${message}`);
  process.exit(1);
}

const python = basePython();
if (!python) fail(process.env.PYTHON ? `PYTHON=${process.env.PYTHON} does not run` : "no python3 on PATH (set PYTHON to a Python >= 3.11)");
const hash = createHash("sha256").update(readFileSync(requirements)).update(python.version).digest("hex");

if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === hash && run(venvPython, ["-c", ""]) !== undefined) {
  console.log("python peers: target/py-peers is up to date");
  process.exit(0);
}

rmSync(venv, { recursive: true, force: true });
const created = spawnSync(python.command, ["-m", "venv", venv], { encoding: "utf8" });
if (created.status !== 0) {
  rmSync(venv, { recursive: true, force: true });
  fail(`\`${python.command} -m venv\` failed (Debian: apt-get install python3-venv)`, `${created.stdout ?? ""}${created.stderr ?? ""}`);
}
const pip = spawnSync(venvPython, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements], {
  encoding: "utf8",
  maxBuffer: 64 << 20,
});
if (pip.status !== 0) {
  rmSync(venv, { recursive: true, force: true });
  fail("pip could not install scripts/python-peers.txt (no network?)", `${pip.stdout ?? ""}${pip.stderr ?? ""}`);
}
writeFileSync(stamp, `${hash}\n`);
console.log(`python peers: installed target/py-peers from scripts/python-peers.txt in ${Math.round((Date.now() - started) / 1000)} s`);
