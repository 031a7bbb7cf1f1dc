/** Python programs run with the peers' venv: client scripts, and `jmp shell` around a command. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ExporterConfig, scratchFolder, writeExporterConfig } from "./exporter-config.js";
import { type PeerRun, runPeerCommand } from "./peer-process.js";
import { peerEnvironment, pythonPeers } from "./python-peers.js";

/** The longest a peer command may run before it is killed (and the call rejects): 20 s unless given. */
export interface PeerTimeout {
  timeoutMs?: number;
}

const defaultTimeoutMs = 20_000;

/**
 * Runs `script` (Python source) with the venv's python, the fixtures folder on
 * PYTHONPATH and `env` added (typically an exporter's `env`, for
 * `jumpstarter.common.utils.env()`). Resolves with its exit code and output.
 */
export async function runPythonClient(script: string, env: Record<string, string> = {}, options: PeerTimeout = {}): Promise<PeerRun> {
  const file = scratchFolder();
  try {
    const path = join(file.dir, "client.py");
    writeFileSync(path, script);
    return await runPeerCommand(pythonPeers().python, [path], {
      env: peerEnvironment(env),
      cwd: file.dir,
      timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
    });
  } finally {
    file.remove();
  }
}

/**
 * `jmp shell --exporter-config F -- CMD ARGS` (local mode): the exporter runs
 * inside jmp on a Unix socket, CMD gets `JUMPSTARTER_HOST` (that socket) and
 * `JMP_DRIVERS_ALLOW=UNSAFE`, plus `env`.
 */
export async function runInJmpShell(
  config: ExporterConfig,
  cmd: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
  options: PeerTimeout = {},
): Promise<PeerRun> {
  const file = writeExporterConfig(config);
  try {
    return await runPeerCommand(pythonPeers().jmp, ["shell", "--exporter-config", file.path, "--", cmd, ...args], {
      env: peerEnvironment({ ...file.tempEnv, ...env }),
      cwd: file.dir,
      timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
    });
  } finally {
    file.remove();
  }
}

/** How `jmp shell --tls-grpc` connects. */
export interface JmpShellTlsOptions extends PeerTimeout {
  /** `--tls-grpc-insecure`: plaintext gRPC (not "TLS without verification"). */
  insecure?: boolean;
  /** `--passphrase P`. */
  passphrase?: string;
  /** Added to its environment, e.g. `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` from `selfSignedCert`. */
  env?: Record<string, string>;
}

/**
 * `jmp shell --tls-grpc HOST [--tls-grpc-insecure] [--passphrase P] -- CMD ARGS`:
 * the direct client, which waits for the exporter to be LEASE_READY and runs
 * CMD with `JUMPSTARTER_HOST=HOST`, `JMP_GRPC_INSECURE`, `JMP_GRPC_PASSPHRASE`.
 */
export function runJmpShellTls(host: string, options: JmpShellTlsOptions, cmd: string, args: readonly string[] = []): Promise<PeerRun> {
  const flags = ["shell", "--tls-grpc", host];
  if (options.insecure) flags.push("--tls-grpc-insecure");
  if (options.passphrase !== undefined) flags.push("--passphrase", options.passphrase);
  return runPeerCommand(pythonPeers().jmp, [...flags, "--", cmd, ...args], {
    env: peerEnvironment(options.env),
    timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
  });
}

/** The prefix of the line a peer script prints its result on: `print("RESULT", json.dumps(...))`. */
export const resultMarker = "RESULT ";

/**
 * The JSON value a peer script printed on its last line starting with
 * "RESULT " (jmp and python-can log to stdout too, so the result is marked).
 * Throws, quoting the output, when there is none.
 */
export function printedResult(stdout: string): unknown {
  const line = stdout
    .split("\n")
    .filter((text) => text.startsWith(resultMarker))
    .at(-1);
  if (line === undefined) throw new Error(`no line starting with "${resultMarker}" in the output:\n${stdout}`);
  return JSON.parse(line.slice(resultMarker.length));
}
