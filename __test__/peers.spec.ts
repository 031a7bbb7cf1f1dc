/**
 * The helpers of __test__/peers against the real peers: Jumpstarter 0.9.0's
 * exporter (`jmp run` on TCP, plaintext with a passphrase and TLS; the local
 * mode of `jmp shell` on a Unix socket) driven by its own Python client
 * (`jumpstarter.common.utils.env()`, `jmp shell --tls-grpc`), with the exporter
 * config of reference part C3.
 */
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type PythonExporter,
  printedResult,
  processIsAlive,
  pythonPeers,
  referenceExporterConfig,
  runInJmpShell,
  runJmpShellTls,
  runPythonClient,
  scratchFolder,
  selfSignedCert,
  skipWithoutPythonPeers,
  startPythonExporter,
  stopAllPeers,
} from "./peers/index.js";

/** Sends an extended FD frame with BRS and a standard frame on `can`, reads both on `peer`, prints their fields as JSON. */
const framesOverEnv = `
import json
import can
from jumpstarter.common.utils import env

with env() as c:
    c.can.send(can.Message(arbitration_id=0x18DAF110, is_extended_id=True, is_fd=True, bitrate_switch=True, data=bytes(range(0x10, 0x20))))
    c.can.send(can.Message(arbitration_id=0x123, is_extended_id=False, data=b"\\x01\\x02\\x03"))
    frames = []
    for _ in range(2):
        m = c.peer.recv(5.0)
        frames.append(None if m is None else {
            "id": m.arbitration_id, "extended": m.is_extended_id, "fd": m.is_fd, "brs": m.bitrate_switch,
            "esi": m.error_state_indicator, "remote": m.is_remote_frame, "error": m.is_error_frame,
            "dlc": m.dlc, "data": m.data.hex(), "channel": m.channel, "rx": m.is_rx,
        })
    print("RESULT", json.dumps(frames))
`;

/** What `framesOverEnv` prints when both frames crossed the exporter's virtual bus js0 intact. */
const framesSeenOnPeer = [
  {
    id: 0x18daf110,
    extended: true,
    fd: true,
    brs: true,
    esi: false,
    remote: false,
    error: false,
    dlc: 16,
    data: "101112131415161718191a1b1c1d1e1f",
    channel: "js0",
    rx: true,
  },
  {
    id: 0x123,
    extended: false,
    fd: false,
    brs: false,
    esi: false,
    remote: false,
    error: false,
    dlc: 3,
    data: "010203",
    channel: "js0",
    rx: true,
  },
];

/** Sends a 64-byte payload on `isotp` (0x7E0 → 0x7E8), receives it on `isotp_peer`, prints it as hex. */
const isoTpOverEnv = `
import json
from jumpstarter.common.utils import env

with env() as c:
    c.isotp.start()
    c.isotp_peer.start()
    try:
        c.isotp.send(bytes(range(64)))
        received = c.isotp_peer.recv(block=True, timeout=5.0)
    finally:
        c.isotp.stop()
        c.isotp_peer.stop()
    print("RESULT", json.dumps({"data": None if received is None else received.hex()}))
`;

/** Prints what a command run by jmp shell sees: the Jumpstarter variables and the `can` driver's channel_info. */
const connectionSeen = `
import json, os
from jumpstarter.common.utils import env

with env() as c:
    info = c.can.channel_info
keys = ("JUMPSTARTER_HOST", "JMP_GRPC_INSECURE", "JMP_GRPC_PASSPHRASE", "JMP_DRIVERS_ALLOW")
print("RESULT", json.dumps({"env": {k: os.environ.get(k) for k in keys}, "channel_info": info}))
`;

/** Whether a TCP connection to 127.0.0.1:port is accepted. */
function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Prints the installed versions of the peers and python-can's socketcand backend (the peer of the socketcand specs). */
const installedPeers = `
import json, can, importlib.metadata as md
from can.interfaces.socketcand import SocketCanDaemonBus
names = ["jumpstarter", "jumpstarter-driver-can", "jumpstarter-driver-composite", "jumpstarter-cli", "python-can", "can-isotp"]
print("RESULT", json.dumps({"versions": {n: md.version(n) for n in names}, "socketcand": can.interfaces.BACKENDS["socketcand"]}))
`;

describe.skipIf(skipWithoutPythonPeers())("the real Jumpstarter 0.9 peers", () => {
  afterAll(stopAllPeers);

  it("are the pinned versions, with python-can's socketcand interface", async () => {
    const run = await runPythonClient(installedPeers);
    expect(run.code, run.stderr).toBe(0);
    expect(printedResult(run.stdout)).toEqual({
      versions: {
        jumpstarter: "0.9.0",
        "jumpstarter-driver-can": "0.9.0",
        "jumpstarter-driver-composite": "0.9.0",
        "jumpstarter-cli": "0.9.0",
        "python-can": "4.6.1",
        "can-isotp": "2.0.7",
      },
      socketcand: ["can.interfaces.socketcand", "SocketCanDaemonBus"],
    });
  });

  it("kills a client that outlives its timeout, and says so with its output", async () => {
    const hang = 'import os, time\nprint("RESULT", os.getpid(), flush=True)\ntime.sleep(60)\n';
    const error = await runPythonClient(hang, {}, { timeoutMs: 1500 }).then(
      () => undefined,
      (thrown: Error) => thrown,
    );
    expect(error?.message).toMatch(/client\.py did not finish within 1500 ms and was killed\nstdout: RESULT \d+\n/);
    const pid = Number(/RESULT (\d+)/.exec(error?.message ?? "")?.[1]);
    expect(processIsAlive(pid)).toBe(false);
  });

  describe("jmp run on 127.0.0.1 (plaintext) with a passphrase", () => {
    const passphrase = "canwire-peers";
    let exporter: PythonExporter;
    beforeAll(async () => {
      exporter = await startPythonExporter({ config: referenceExporterConfig(), listen: "tcp", passphrase });
    }, 40_000);
    afterAll(() => exporter?.stop());

    it("hands a client the environment jmp shell --tls-grpc sets", () => {
      expect(exporter.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(exporter.env).toEqual({
        JUMPSTARTER_HOST: exporter.host,
        JMP_GRPC_INSECURE: "1",
        JMP_GRPC_PASSPHRASE: passphrase,
        JMP_DRIVERS_ALLOW: "UNSAFE",
      });
    });

    it("carries an extended FD frame with BRS and a standard frame from can to peer (env() client)", async () => {
      const run = await runPythonClient(framesOverEnv, exporter.env);
      expect(run.stderr).not.toMatch(/Traceback/);
      expect(run.code).toBe(0);
      expect(printedResult(run.stdout)).toEqual(framesSeenOnPeer);
    });

    it("moves a 64-byte ISO-TP payload from isotp to isotp_peer through the shim", async () => {
      const run = await runPythonClient(isoTpOverEnv, exporter.env);
      expect(run.code, run.stderr).toBe(0);
      expect(printedResult(run.stdout)).toEqual({ data: Buffer.from(Array.from({ length: 64 }, (_, i) => i)).toString("hex") });
    });

    it("runs a command under jmp shell --tls-grpc with the passphrase", async () => {
      const { python } = pythonPeers();
      const run = await runJmpShellTls(exporter.host, { insecure: true, passphrase }, python, ["-c", connectionSeen]);
      expect(run.code, run.stderr).toBe(0);
      expect(printedResult(run.stdout)).toEqual({
        env: { JUMPSTARTER_HOST: exporter.host, JMP_GRPC_INSECURE: "1", JMP_GRPC_PASSPHRASE: passphrase, JMP_DRIVERS_ALLOW: "UNSAFE" },
        channel_info: "Virtual bus channel js0",
      });
    });

    it("refuses a wrong passphrase: jmp shell --tls-grpc exits 1 with 'invalid or missing passphrase'", async () => {
      const run = await runJmpShellTls(exporter.host, { insecure: true, passphrase: "wrong" }, "true");
      expect(run.code).toBe(1);
      expect(`${run.stdout}${run.stderr}`).toContain("Authentication failed: invalid or missing passphrase");
    });
  });

  describe("the local mode of jmp shell --exporter-config (Unix socket)", () => {
    it("serves a Unix socket that an env() client in another process reaches", async () => {
      const exporter = await startPythonExporter({ config: referenceExporterConfig(), listen: "unix" });
      try {
        expect(exporter.host).toMatch(/^\/.*\/jumpstarter-[^/]+\/socket$/);
        expect(exporter.env).toEqual({ JUMPSTARTER_HOST: exporter.host, JMP_DRIVERS_ALLOW: "UNSAFE" });
        const run = await runPythonClient(framesOverEnv, exporter.env);
        expect(run.code, run.stderr).toBe(0);
        expect(printedResult(run.stdout)).toEqual(framesSeenOnPeer);
      } finally {
        await exporter.stop();
      }
      expect(existsSync(exporter.host)).toBe(false);
    }, 30_000);

    it("runs a command inside jmp shell, which hands it the socket", async () => {
      const run = await runInJmpShell(referenceExporterConfig(), pythonPeers().python, ["-c", framesOverEnv]);
      expect(run.code, run.stderr).toBe(0);
      expect(printedResult(run.stdout)).toEqual(framesSeenOnPeer);
    });
  });

  describe("jmp run with TLS (a self-signed certificate for 127.0.0.1)", () => {
    it("serves jmp shell --tls-grpc trusting the certificate, and stop() ends the exporter and its worker", async () => {
      const scratch = scratchFolder();
      const cert = selfSignedCert(scratch.dir);
      const exporter = await startPythonExporter({ config: referenceExporterConfig(), listen: "tcp", tls: cert });
      const pids = exporter.pids();
      try {
        expect(exporter.env).toEqual({
          JUMPSTARTER_HOST: exporter.host,
          GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: cert.cert,
          JMP_DRIVERS_ALLOW: "UNSAFE",
        });
        // jmp run forks a worker that serves the port: the supervisor and at least that worker.
        expect(pids.length).toBeGreaterThanOrEqual(2);
        const run = await runJmpShellTls(exporter.host, { env: cert.env }, pythonPeers().python, ["-c", connectionSeen]);
        expect(run.code, run.stderr).toBe(0);
        expect(printedResult(run.stdout)).toEqual({
          env: { JUMPSTARTER_HOST: exporter.host, JMP_GRPC_INSECURE: null, JMP_GRPC_PASSPHRASE: null, JMP_DRIVERS_ALLOW: "UNSAFE" },
          channel_info: "Virtual bus channel js0",
        });
      } finally {
        await exporter.stop();
        scratch.remove();
      }
      expect(pids.filter(processIsAlive)).toEqual([]);
      expect(await portAccepts(exporter.port!)).toBe(false);
    }, 40_000);
  });
});
