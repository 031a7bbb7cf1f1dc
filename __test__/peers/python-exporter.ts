/**
 * The real Jumpstarter 0.9 exporter, run for a spec: `jmp run` serving gRPC on
 * 127.0.0.1 (plaintext or TLS, with or without a passphrase), or the local
 * mode of `jmp shell --exporter-config` serving it on a Unix socket.
 */
import { connect } from "node:net";
import { type ExporterConfig, writeExporterConfig } from "./exporter-config.js";
import { freePort } from "./free-port.js";
import { type PeerProcess, startPeerProcess } from "./peer-process.js";
import { peerEnvironment, pythonPeers } from "./python-peers.js";

/** How to run the exporter. */
export interface PythonExporterOptions {
  /** The exporter config (YAML text or object); see `referenceExporterConfig()` for the one of reference part C3. */
  config: ExporterConfig;
  /**
   * "tcp": `jmp run --tls-grpc-listener 127.0.0.1:PORT` (`--tls-grpc-insecure` unless `tls`).
   * "unix": `jmp shell --exporter-config` holding the exporter's Unix socket open (no passphrase or TLS there).
   */
  listen: "tcp" | "unix";
  /** `--passphrase P`: every RPC must carry it (enforced without TLS too). TCP only. */
  passphrase?: string;
  /** Server TLS with this certificate and key (PEM paths, e.g. from `selfSignedCert`). TCP only. */
  tls?: { cert: string; key: string };
  /** Added to the exporter's environment, e.g. `CAN_CONFIG` for a python-can interface such as socketcand. */
  env?: Record<string, string>;
  /** How long to wait for the exporter to answer; default 30 s. */
  startTimeoutMs?: number;
}

/** A running exporter. */
export interface PythonExporter {
  /** Where it listens: "127.0.0.1:PORT", or the Unix socket path. */
  host: string;
  /** The TCP port, for "tcp". */
  port?: number;
  /**
   * The environment a client process needs, as `jmp shell` would set it:
   * `JUMPSTARTER_HOST`, `JMP_DRIVERS_ALLOW=UNSAFE`, and for TCP
   * `JMP_GRPC_INSECURE=1` (plaintext) or `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`
   * (TLS, trusting its certificate), and `JMP_GRPC_PASSPHRASE`.
   */
  env: Record<string, string>;
  /** The processes serving it: the one started (jmp), then the descendants it had once it answered (for `jmp run`: its worker). */
  pids(): number[];
  /** What the exporter logged so far (stderr, then stdout). */
  output(): string;
  /** Ends the exporter and its worker, removes its config folder; idempotent. */
  stop(): Promise<void>;
}

/** Starts the real exporter and resolves once it accepts connections. */
export async function startPythonExporter(options: PythonExporterOptions): Promise<PythonExporter> {
  if (options.listen === "unix") {
    if (options.passphrase !== undefined || options.tls) throw new Error('passphrase and tls need listen: "tcp"');
    return startUnixExporter(options);
  }
  // The port can be taken between freePort() and jmp binding it: retry with another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTcpExporter(options, await freePort());
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTaken)) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startTcpExporter(options: PythonExporterOptions, port: number): Promise<PythonExporter> {
  const file = writeExporterConfig(options.config);
  const args = ["run", "--exporter-config", file.path, "--tls-grpc-listener", `127.0.0.1:${port}`];
  args.push(...(options.tls ? ["--tls-cert", options.tls.cert, "--tls-key", options.tls.key] : ["--tls-grpc-insecure"]));
  if (options.passphrase !== undefined) args.push("--passphrase", options.passphrase);
  const peer = startPeerProcess(pythonPeers().jmp, args, { env: peerEnvironment({ ...file.tempEnv, ...options.env }), cwd: file.dir });
  const stop = async () => {
    await peer.stop();
    file.remove();
  };
  try {
    await waitUntil(peer, options.startTimeoutMs ?? 30_000, `jmp run on 127.0.0.1:${port}`, () => accepts({ port, host: "127.0.0.1" }));
  } catch (error) {
    await stop();
    if (/address already in use|Failed to bind|Address in use/i.test(peer.stderr())) throw new PortTaken(String(error));
    throw error;
  }
  // jmp run forks its worker into a process group of its own: note it now, so stop() ends it too.
  peer.rememberDescendants();
  const host = `127.0.0.1:${port}`;
  const env: Record<string, string> = { JUMPSTARTER_HOST: host, JMP_DRIVERS_ALLOW: "UNSAFE" };
  if (options.tls) env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = options.tls.cert;
  else env.JMP_GRPC_INSECURE = "1";
  if (options.passphrase !== undefined) env.JMP_GRPC_PASSPHRASE = options.passphrase;
  return { host, port, env, pids: () => pidsOf(peer), output: () => peer.stderr() + peer.stdout(), stop };
}

/**
 * Prints the socket jmp shell hands its command on a marked line (the
 * exporter's own log lines share stdout: with asammdf installed, pandas'
 * numexpr logs first), then holds the shell open until stdin closes.
 */
const socketMark = "canwire-peer-socket=";
const holder = `import os, sys\nprint("${socketMark}" + os.environ['JUMPSTARTER_HOST'], flush=True)\nsys.stdin.read()\n`;

async function startUnixExporter(options: PythonExporterOptions): Promise<PythonExporter> {
  const file = writeExporterConfig(options.config);
  const { jmp, python } = pythonPeers();
  const peer = startPeerProcess(jmp, ["shell", "--exporter-config", file.path, "--", python, "-c", holder], {
    env: peerEnvironment({ ...file.tempEnv, ...options.env }),
    cwd: file.dir,
    keepStdinOpen: true,
  });
  const stop = async () => {
    peer.child.stdin?.end();
    await Promise.race([peer.exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
    await peer.stop();
    file.remove();
  };
  let socket = "";
  try {
    await waitUntil(peer, options.startTimeoutMs ?? 30_000, "jmp shell --exporter-config", async () => {
      const line = peer
        .stdout()
        .split("\n")
        .find((l, i, all) => i < all.length - 1 && l.startsWith(socketMark));
      if (line === undefined) return false;
      socket = line.slice(socketMark.length).trim();
      return accepts({ path: socket });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  peer.rememberDescendants();
  return {
    host: socket,
    env: { JUMPSTARTER_HOST: socket, JMP_DRIVERS_ALLOW: "UNSAFE" },
    pids: () => pidsOf(peer),
    output: () => peer.stderr() + peer.stdout(),
    stop,
  };
}

function pidsOf(peer: PeerProcess): number[] {
  return peer.child.pid ? [peer.child.pid, ...peer.descendants()] : [];
}

/** Polls `ready` every 100 ms until it holds; fails with the process's output if it exits first or `timeoutMs` passes. */
async function waitUntil(peer: PeerProcess, timeoutMs: number, what: string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (peer.hasExited()) {
      throw new Error(
        `${what} exited (code ${await peer.exited}) before accepting connections\nstderr: ${peer.stderr()}\nstdout: ${peer.stdout()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not accept connections within ${timeoutMs} ms\nstderr: ${peer.stderr()}\nstdout: ${peer.stdout()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether a connection to `target` is accepted (then closed at once). */
function accepts(target: { port: number; host: string } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(target);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
