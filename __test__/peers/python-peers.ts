/**
 * Where the real Python peers live: the venv `target/py-peers` that
 * `scripts/python-peers.mjs` installs (Jumpstarter 0.9.0, python-can 4.6,
 * can-isotp; `npm test` runs it first), and the fixtures folder the exporter
 * configs name their shim drivers from.
 */
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { skipWithout } from "../prerequisites.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const venv = join(root, "target", "py-peers");
const bin = join(venv, process.platform === "win32" ? "Scripts" : "bin");
const exe = process.platform === "win32" ? ".exe" : "";

/** The venv's programs, and whether the install finished (its stamp is written last). */
export interface PythonPeers {
  /** The venv folder, `target/py-peers`. */
  venv: string;
  /** The venv's `python`, with jumpstarter, jumpstarter_driver_can, can (4.6) and isotp importable. */
  python: string;
  /** Jumpstarter's `jmp` command. */
  jmp: string;
  /** True when the venv is complete: `scripts/python-peers.mjs` wrote its stamp. */
  installed: boolean;
  /** The folder holding `isotp_shim.py` and `exporter.yaml` (`__test__/fixtures/jumpstarter`), put on PYTHONPATH. */
  fixtures: string;
}

/** The paths of the Python peers, and whether they are installed. */
export function pythonPeers(): PythonPeers {
  const python = join(bin, `python${exe}`);
  const jmp = join(bin, `jmp${exe}`);
  const stamp = join(venv, "requirements.sha256");
  const installed = existsSync(stamp) && existsSync(python) && existsSync(jmp);
  return { venv, python, jmp, installed, fixtures: join(root, "__test__", "fixtures", "jumpstarter") };
}

/** How to get the peers, for skip and failure messages. */
export const installPythonPeers = "run `node scripts/python-peers.mjs` (needs python3 with venv and network access to PyPI)";

/**
 * Whether the specs needing the Python peers must be skipped: call at the top
 * of a spec file (`describe.skipIf(skipWithoutPythonPeers())`). Under
 * `CI=true` a missing install fails the file instead (see {@link skipWithout}).
 */
export function skipWithoutPythonPeers(): boolean {
  return skipWithout("Jumpstarter 0.9 (target/py-peers)", pythonPeers().installed, installPythonPeers);
}

/** The exporter config of reference part C3 (`can`/`peer` on one virtual channel, `isotp`/`isotp_peer` through the shim), as YAML text. */
export function referenceExporterConfig(): string {
  return readFileSync(join(pythonPeers().fixtures, "exporter.yaml"), "utf8");
}

/**
 * The environment a peer process runs with: this process's environment
 * without any Jumpstarter connection variables (so nothing leaks in from the
 * caller's shell), the fixtures folder first on PYTHONPATH, unbuffered
 * output, then `extra`.
 */
export function peerEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(_?JMP_|JUMPSTARTER_|GRPC_DEFAULT_SSL_ROOTS_FILE_PATH$)/.test(key)),
  );
  const pythonPath = [pythonPeers().fixtures, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  return { ...inherited, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: "1", NO_COLOR: "1", ...extra };
}
