/**
 * `canwire serve` as a user runs it, driven by the unmodified
 * `jmp shell --tls-grpc` and by `env()`: it prints where it listens and each
 * client, serves the ExporterConfig's buses and ISO-TP stacks (two `Can`
 * drivers on one virtual channel, two canwire IsoTp stacks facing each
 * other, so Python talks to Python through canwire), and exits 0 on SIGINT.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  printedResult,
  pythonPeers,
  runJmpShellTls,
  runPythonClient,
  scratchFolder,
  skipWithoutPythonPeers,
  stopAllPeers,
} from "./peers/index.js";

const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

const config = `apiVersion: jumpstarter.dev/v1alpha1
kind: ExporterConfig
metadata: {namespace: default, name: canwire}
export:
  can: {type: jumpstarter_driver_can.driver.Can, config: {channel: js0, interface: virtual}}
  peer: {type: jumpstarter_driver_can.driver.Can, config: {channel: js0, interface: virtual}}
  isotp: {type: jumpstarter_driver_can.driver.IsoTpPython, config: {channel: js1, interface: virtual, address: {txid: 0x7E0, rxid: 0x7E8}}}
  isotp_peer: {type: jumpstarter_driver_can.driver.IsoTpPython, config: {channel: js1, interface: virtual, address: {txid: 0x7E8, rxid: 0x7E0}}}
`;

/** A running `canwire serve` and the lines it printed. */
interface Served {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  address: string;
  exited: Promise<number | null>;
}

async function startServe(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [cli, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? (signal as unknown as number))),
  );
  const address = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (d) => {
      buffered += d;
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        const m = /^listening on (.+)$/.exec(line);
        if (m?.[1]) resolve(m[1]);
      }
    });
    void exited.then((code) => reject(new Error(`canwire serve exited ${code}: ${err}`)));
  });
  return { child, lines, stderr: () => err, address, exited };
}

const script = `
import json, can
from jumpstarter.common.utils import env
with env() as c:
    c.peer.send(can.Message(arbitration_id=0x18DAF110, is_extended_id=True, is_fd=False, data=b"\\x02\\x3e\\x00"))
    m = c.can.recv(5.0)
    c.isotp.start()
    c.isotp_peer.start()
    payload = bytes(i & 0xff for i in range(4095))
    c.isotp.send(payload)
    got = c.isotp_peer.recv(True, 15.0)
    c.isotp_peer.send(got[::-1])
    back = c.isotp.recv(True, 15.0)
    c.isotp.stop()
    c.isotp_peer.stop()
    print("RESULT", json.dumps({"id": m.arbitration_id, "ext": m.is_extended_id, "data": m.data.hex(),
        "forward": got == payload, "back": back == payload[::-1]}))
`;

const skip = skipWithoutPythonPeers();

describe("canwire serve --unix", () => {
  it("creates the socket 0600 and removes it on SIGINT, even when a second signal comes during close", async () => {
    const folder = scratchFolder();
    try {
      const configPath = join(folder.dir, "exporter.yaml");
      writeFileSync(configPath, config);
      const socket = join(folder.dir, "rig.sock");
      const served = await startServe(["--config", configPath, "--unix", socket]);
      expect(served.address).toBe(socket);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      served.child.kill("SIGINT");
      served.child.kill("SIGINT");
      expect(await served.exited).toBe(0);
      expect(existsSync(socket)).toBe(false);
    } finally {
      folder.remove();
    }
  });
});

describe.skipIf(skip)("canwire serve driven by jmp shell --tls-grpc and env()", () => {
  const folder = scratchFolder();
  const configPath = join(folder.dir, "exporter.yaml");
  const scriptPath = join(folder.dir, "test.py");
  let served: Served;

  beforeAll(async () => {
    writeFileSync(configPath, config);
    writeFileSync(scriptPath, script);
    served = await startServe(["--config", configPath, "--passphrase", "rig-7"]);
  });

  afterAll(async () => {
    if (served && served.child.exitCode === null) served.child.kill("SIGKILL");
    await stopAllPeers();
    folder.remove();
  });

  it("prints the loopback address it listens on", () => {
    expect(served.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(served.lines[0]).toBe(`listening on ${served.address}`);
  });

  it("runs a CanClient/IsoTpClient script under jmp shell --tls-grpc --passphrase: frames and a 4095-byte ISO-TP exchange", async () => {
    const run = await runJmpShellTls(served.address, { insecure: true, passphrase: "rig-7", timeoutMs: 60_000 }, pythonPeers().python, [
      scriptPath,
    ]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(printedResult(run.stdout)).toEqual({ id: 0x18daf110, ext: true, data: "023e00", forward: true, back: true });
    expect(served.lines.filter((l) => /^client connected from 127\.0\.0\.1:\d+$/.test(l)).length).toBeGreaterThan(0);
  }, 90_000);

  it("answers env() with the passphrase and refuses it without", async () => {
    const env = { JUMPSTARTER_HOST: served.address, JMP_GRPC_INSECURE: "1", JMP_DRIVERS_ALLOW: "UNSAFE" };
    const ok = await runPythonClient(script, { ...env, JMP_GRPC_PASSPHRASE: "rig-7" });
    expect(ok.code, ok.stderr).toBe(0);
    expect(printedResult(ok.stdout)).toMatchObject({ id: 0x18daf110, forward: true, back: true });
    const refused = await runPythonClient(script, env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("invalid or missing passphrase");
  }, 60_000);

  it("exits 0 on SIGINT", async () => {
    served.child.kill("SIGINT");
    expect(await served.exited).toBe(0);
  });

  it("refuses a bad command line with its usage (exit 2)", async () => {
    const bad = await startServe(["--config", configPath, "--listen", "127.0.0.1:0", "--unix", join(folder.dir, "s")]).catch(
      (e: Error) => e,
    );
    expect(bad).toBeInstanceOf(Error);
    expect(String(bad)).toContain("exited 2");
    expect(String(bad)).toContain("--listen and --unix exclude each other");
  });
});
