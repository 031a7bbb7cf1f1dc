/**
 * canwire as a Jumpstarter client, against the real Jumpstarter 0.9 exporter
 * (`jmp run`, `jmp shell --exporter-config`) and the real Python clients on
 * the other side: the reference exporter has `can` and `peer` on one virtual
 * channel and `isotp`/`isotp_peer` facing each other. canwire drives `can`
 * and `isotp`; Python (`env()`) drives `peer` and `isotp_peer`.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, CanError, IsoTp, type Message } from "../src/index.js";
import {
  type PythonExporter,
  printedResult,
  referenceExporterConfig,
  runInJmpShell,
  runPythonClient,
  scratchFolder,
  selfSignedCert,
  skipWithoutPythonPeers,
  startPythonExporter,
  stopAllPeers,
} from "./peers/index.js";

const root = fileURLToPath(new URL("../", import.meta.url));

/** The code and message a promise rejects with (a non-CanError fails the check). */
async function rejection(work: Promise<unknown>): Promise<[string, string]> {
  try {
    await work;
  } catch (error) {
    if (error instanceof CanError) return [error.code, error.message];
    throw error;
  }
  throw new Error("nothing was thrown");
}

/** The fields Python prints for a received message. */
const pyMessageJson = `def fields(m):
    return {"id": m.arbitration_id, "extended": m.is_extended_id, "remote": m.is_remote_frame,
            "fd": m.is_fd, "brs": m.bitrate_switch, "esi": m.error_state_indicator,
            "dlc": m.dlc, "data": bytes(m.data).hex(), "timestamp": m.timestamp}
`;

/** The same fields of a canwire message. */
function fieldsOf(m: Message): Record<string, unknown> {
  return {
    id: m.id,
    extended: m.extended,
    remote: m.remote,
    fd: m.fd,
    brs: m.bitrateSwitch,
    esi: m.errorStateIndicator,
    dlc: m.dlc,
    data: Buffer.from(m.data).toString("hex"),
  };
}

/** What both sides send: standard, extended, remote, FD with BRS and ESI. */
const FRAMES = [
  { id: 0x123, extended: false, remote: false, fd: false, brs: false, esi: false, dlc: 3, data: "010203" },
  { id: 0x1abcdef0, extended: true, remote: false, fd: false, brs: false, esi: false, dlc: 8, data: "deadbeef00010203" },
  { id: 0x7ff, extended: false, remote: true, fd: false, brs: false, esi: false, dlc: 4, data: "" },
  { id: 0x18daf110, extended: true, remote: false, fd: true, brs: true, esi: true, dlc: 12, data: "5a".repeat(12) },
];

describe.skipIf(skipWithoutPythonPeers())("canwire's client against the real Jumpstarter 0.9 exporter", () => {
  let exporter: PythonExporter;
  const open = (channel: string, fd = true) => Bus.open({ interface: "jumpstarter", channel, host: exporter.host, insecure: true, fd });

  beforeAll(async () => {
    exporter = await startPythonExporter({ config: referenceExporterConfig(), listen: "tcp" });
  }, 60_000);
  afterAll(async () => {
    await exporter?.stop();
    await stopAllPeers();
  });

  it("sends standard, extended, remote and FD frames that a Python CanClient receives with exact fields", async () => {
    await using bus = await open("can");
    const before = Date.now() / 1000;
    for (const f of FRAMES) {
      await bus.send({
        id: f.id,
        extended: f.extended,
        remote: f.remote,
        fd: f.fd,
        bitrateSwitch: f.brs,
        errorStateIndicator: f.esi,
        dlc: f.dlc,
        data: Buffer.from(f.data, "hex"),
      });
    }
    const run = await runPythonClient(
      `import json
from jumpstarter.common.utils import env
${pyMessageJson}
with env() as c:
    got = [fields(c.peer.recv(5.0)) for _ in range(4)]
    print("RESULT", json.dumps(got))
`,
      exporter.env,
    );
    expect(run.code, run.stderr).toBe(0);
    const got = printedResult(run.stdout) as Array<Record<string, unknown>>;
    expect(got.map(({ timestamp: _, ...rest }) => rest)).toEqual(FRAMES);
    for (const g of got) expect(g.timestamp as number).toBeGreaterThan(before - 1);
  }, 30_000);

  it("receives what a Python CanClient sends, in order, with exact fields and the exporter's timestamps", async () => {
    await using bus = await open("can");
    const before = Date.now() / 1000;
    const run = await runPythonClient(
      `import can
from jumpstarter.common.utils import env
with env() as c:
    c.peer.send(can.Message(arbitration_id=0x123, is_extended_id=False, data=bytes([1, 2, 3])))
    c.peer.send(can.Message(arbitration_id=0x1abcdef0, is_extended_id=True, data=bytes.fromhex("deadbeef00010203")))
    c.peer.send(can.Message(arbitration_id=0x7ff, is_extended_id=False, is_remote_frame=True, dlc=4))
    c.peer.send(can.Message(arbitration_id=0x18daf110, is_extended_id=True, is_fd=True, bitrate_switch=True,
                            error_state_indicator=True, data=bytes([0x5a] * 12)))
    print("RESULT", "sent")
`,
      exporter.env,
    );
    expect(run.code, run.stderr).toBe(0);
    const got: Message[] = [];
    for (let i = 0; i < FRAMES.length; i++) {
      const m = await bus.recv({ timeoutMs: 5000 });
      if (m) got.push(m);
    }
    expect(got.map(fieldsOf)).toEqual(FRAMES);
    for (const m of got) {
      expect(m.timestamp).toBeGreaterThan(before - 1);
      expect(m.timestamp).toBeLessThan(Date.now() / 1000 + 1);
      expect(m.channel).toBe("can");
      expect(m.isRx).toBe(true);
    }
  }, 30_000);

  it("reports the driver's properties", async () => {
    await using classic = await open("can", false);
    expect(classic.channelInfo).toBe(`Jumpstarter driver 'can' at ${exporter.host} (polled): Virtual bus channel js0`);
    expect(classic.state).toBe("active");
    expect(classic.protocol).toBe("CAN_20");
    await using fd = await open("can");
    expect(fd.protocol).toBe("CAN_FD");
    // the virtual bus has no flush: UNIMPLEMENTED is swallowed, as CanClient does
    fd.flushTxBuffer();
  }, 30_000);

  it("filters: the exporter cannot apply them (UNIMPLEMENTED), so the bus filters in software", async () => {
    await using bus = await open("can");
    bus.setFilters([{ id: 0x123, mask: 0x7ff, extended: false }]);
    const run = await runPythonClient(
      `import can
from jumpstarter.common.utils import env
with env() as c:
    for i in (0x124, 0x123, 0x125, 0x123):
        c.peer.send(can.Message(arbitration_id=i, is_extended_id=False, data=bytes([i & 0xff])))
    print("RESULT", "sent")
`,
      exporter.env,
    );
    expect(run.code, run.stderr).toBe(0);
    const first = await bus.recv({ timeoutMs: 5000 });
    const second = await bus.recv({ timeoutMs: 5000 });
    expect([first?.id, second?.id]).toEqual([0x123, 0x123]);
    expect(await bus.recv({ timeoutMs: 300 })).toBeNull();
    expect(bus.stats().rxFiltered).toBe(2);
  }, 30_000);

  it("runs periodic tasks on the exporter: exact counts, a restart, and what it cannot do is ERR_UNSUPPORTED", async () => {
    await using bus = await open("can");
    const reader = `import json, time
from jumpstarter.common.utils import env
with env() as c:
    got, end = [], time.monotonic() + float(__import__("sys").argv[1] if len(__import__("sys").argv) > 1 else 1.5)
    while time.monotonic() < end:
        m = c.peer.recv(0.1)
        if m is not None:
            got.append(bytes(m.data).hex())
    print("RESULT", json.dumps(got))
`;
    const task = bus.sendPeriodic({ id: 0x321, data: [0xca, 0xfe] }, { periodMs: 100, count: 5 });
    const run = await runPythonClient(reader, exporter.env);
    expect(run.code, run.stderr).toBe(0);
    expect(printedResult(run.stdout)).toEqual(Array(5).fill("cafe"));
    expect(task.running).toBe(false);
    expect(await rejection(Promise.resolve().then(() => task.modifyData([{ id: 0x321, data: [1] }])))).toEqual([
      "ERR_UNSUPPORTED",
      "a Jumpstarter exporter cannot change a periodic task's data (its driver has no call for it): stop the task and start a new one",
    ]);
    task.start();
    const again = await runPythonClient(reader, exporter.env);
    expect(printedResult(again.stdout)).toEqual(Array(5).fill("cafe"));
    task.stop();
    const [code, message] = await rejection(
      Promise.resolve().then(() => bus.sendPeriodic({ id: 0x321, data: [1] }, { periodMs: 50, modifier: (m) => m })),
    );
    expect(code).toBe("ERR_UNSUPPORTED");
    expect(message).toContain("modifier is not supported");
    // the Python virtual bus's task sends one id: the exporter's INVALID_ARGUMENT maps to ERR_INVALID_ARGUMENT
    const mixed = await rejection(
      Promise.resolve().then(() =>
        bus.sendPeriodic(
          [
            { id: 0x100, data: [1] },
            { id: 0x101, data: [2] },
          ],
          { periodMs: 50 },
        ),
      ),
    );
    expect(mixed[0]).toBe("ERR_INVALID_ARGUMENT");
    expect(mixed[1]).toContain("All Arbitration IDs should be the same");
  }, 40_000);

  it("sends a 4095-byte ISO-TP payload to a Python IsoTpClient and receives one back", async () => {
    // the address given is applied with the driver's set_address (the exporter's own, here)
    await using tp = await IsoTp.open({
      interface: "jumpstarter",
      channel: "isotp",
      host: exporter.host,
      insecure: true,
      address: { txid: 0x7e0, rxid: 0x7e8 },
      params: { blockingSend: true },
    });
    const toCanwire = Uint8Array.from({ length: 4095 }, (_, i) => (i * 7) & 0xff);
    const python = runPythonClient(
      `import json
from jumpstarter.common.utils import env
with env() as c:
    tp = c.isotp_peer
    tp.start()
    try:
        tp.send(bytes((i * 7) & 0xff for i in range(4095)))
        back = tp.recv(block=True, timeout=15.0)
        print("RESULT", json.dumps({"length": len(back), "ok": back == bytes((i * 3 + 1) & 0xff for i in range(4095))}))
    finally:
        tp.stop()
`,
      exporter.env,
      { timeoutMs: 30_000 },
    );
    const got = await tp.recv({ timeoutMs: 20_000 });
    expect(got && Buffer.from(got).equals(Buffer.from(toCanwire))).toBe(true);
    await tp.send(
      Uint8Array.from({ length: 4095 }, (_, i) => (i * 3 + 1) & 0xff),
      { sendTimeoutMs: 20_000 },
    );
    expect(tp.transmitting()).toBe(false);
    const run = await python;
    expect(run.code, run.stderr).toBe(0);
    expect(printedResult(run.stdout)).toEqual({ length: 4095, ok: true });
    expect(tp.stats()).toMatchObject({ rxPayloads: 1, txComplete: 1, txFailed: 0 });
    const [code, message] = await rejection(
      IsoTp.open({ interface: "jumpstarter", channel: "isotp", host: exporter.host, insecure: true, params: { stmin: 5 } }),
    );
    expect(code).toBe("ERR_INVALID_ARGUMENT");
    expect(message).toBe(
      "the exporter's config sets the ISO-TP parameters of interface 'jumpstarter'; only blockingSend applies here, got stmin",
    );
  }, 40_000);

  it("maps a missing driver, a driver of another kind and the exporter's statuses to codes", async () => {
    expect(await rejection(open("nosuch"))).toEqual([
      "ERR_UNKNOWN_INTERFACE",
      "the exporter has no driver named 'nosuch'; it has: can, isotp, isotp_peer, peer",
    ]);
    expect(await rejection(open("isotp"))).toEqual([
      "ERR_UNSUPPORTED",
      "the driver 'isotp' is a 'jumpstarter_driver_can.client.IsoTpClient', not a 'jumpstarter_driver_can.client.CanClient'",
    ]);
    const [code, message] = await rejection(Bus.open({ interface: "jumpstarter", channel: "can", host: "127.0.0.1:1", insecure: true }));
    expect(code).toBe("ERR_UNREACHABLE");
    expect(message).toMatch(/^the Jumpstarter exporter at 127\.0\.0\.1:1 is unreachable/);
  }, 30_000);

  it("canwire dump -i jumpstarter -c can prints what Python sends, connecting where JUMPSTARTER_HOST points", async () => {
    const cli = join(root, "dist", "cli", "main.js");
    const dumped = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [cli, "dump", "-i", "jumpstarter", "-c", "can", "-n", "2", "--timeout-ms", "15000"],
        { env: { ...process.env, ...exporter.env }, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    // give dump time to connect: frames sent before its first poll wait in the driver's queue anyway
    const run = await runPythonClient(
      `import can
from jumpstarter.common.utils import env
with env() as c:
    c.peer.send(can.Message(arbitration_id=0x7e0, is_extended_id=False, data=bytes([2, 0x10, 3])))
    c.peer.send(can.Message(arbitration_id=0x1abcdef0, is_extended_id=True, data=b""))
    print("RESULT", "sent")
`,
      exporter.env,
    );
    expect(run.code, run.stderr).toBe(0);
    const out = await dumped;
    expect(out.code, out.stderr).toBe(0);
    expect(
      out.stdout
        .trim()
        .split("\n")
        .map((line) => line.replace(/^\(\d+\.\d+\) /, "")),
    ).toEqual(["can 7E0#021003", "can 1ABCDEF0#"]);
  }, 40_000);
});

describe.skipIf(skipWithoutPythonPeers())("canwire's client: passphrase, a lost exporter, TLS, jmp shell", () => {
  afterAll(() => stopAllPeers());

  it("a wrong or missing passphrase is ERR_UNAUTHENTICATED; a killed exporter ends a pending read with ERR_UNREACHABLE", async () => {
    const exporter = await startPythonExporter({ config: referenceExporterConfig(), listen: "tcp", passphrase: "s3cret" });
    try {
      const options = { interface: "jumpstarter", channel: "can", host: exporter.host, insecure: true } as const;
      expect(await rejection(Bus.open(options))).toEqual([
        "ERR_UNAUTHENTICATED",
        `the Jumpstarter exporter at ${exporter.host} refused this client: invalid or missing passphrase`,
      ]);
      expect((await rejection(Bus.open({ ...options, passphrase: "wrong" })))[0]).toBe("ERR_UNAUTHENTICATED");
      const bus = await Bus.open({ ...options, passphrase: "s3cret" });
      const pending = rejection(bus.recv());
      const iterated = rejection(
        (async () => {
          for await (const _ of bus.reader()) {
            /* nothing arrives */
          }
        })(),
      );
      const killedAt = Date.now();
      for (const pid of exporter.pids()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      const [code, message] = await pending;
      expect(Date.now() - killedAt).toBeLessThan(15_000);
      expect(code).toBe("ERR_UNREACHABLE");
      expect(message).toContain(exporter.host);
      expect((await iterated)[0]).toBe("ERR_UNREACHABLE");
      expect((await rejection(bus.recv()))[0]).toBe("ERR_UNREACHABLE");
      expect((await rejection(bus.send({ id: 1, data: [] })))[0]).toBe("ERR_UNREACHABLE");
      await bus.close();
    } finally {
      await exporter.stop();
    }
  }, 60_000);

  it("connects over TLS with a self-signed certificate given as tlsCa, and refuses an unknown one", async () => {
    const folder = scratchFolder();
    const cert = selfSignedCert(folder.dir);
    const exporter = await startPythonExporter({
      config: referenceExporterConfig(),
      listen: "tcp",
      tls: { cert: cert.cert, key: cert.key },
    });
    try {
      const options = { interface: "jumpstarter", channel: "can", host: exporter.host } as const;
      const [code, message] = await rejection(Bus.open(options));
      expect(code).toBe("ERR_UNREACHABLE");
      expect(message).toContain(exporter.host);
      await using bus = await Bus.open({ ...options, tlsCa: readFileSync(cert.cert, "utf8") });
      expect(bus.channelInfo).toContain("Virtual bus channel js0");
      await bus.send({ id: 0x42, data: [4, 2] });
      const run = await runPythonClient(
        `import json
from jumpstarter.common.utils import env
with env() as c:
    m = c.peer.recv(5.0)
    print("RESULT", json.dumps([m.arbitration_id, bytes(m.data).hex()]))
`,
        exporter.env,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(printedResult(run.stdout)).toEqual([0x42, "0402"]);
      // a driver exception (UNKNOWN) is ERR_REMOTE with the exporter's text: a Python client
      // shuts the bus down, which ends this bus's polls and fails its readers
      const pending = rejection(bus.recv());
      const shutdown = await runPythonClient(
        `from jumpstarter.common.utils import env
with env() as c:
    c.can.shutdown()
    print("RESULT", 1)
`,
        exporter.env,
      );
      expect(shutdown.code, shutdown.stderr).toBe(0);
      expect(await pending).toEqual(["ERR_REMOTE", "Cannot operate on a closed bus"]);
    } finally {
      await exporter.stop();
      folder.remove();
    }
  }, 60_000);

  it("inside jmp shell --exporter-config, Bus.open finds the exporter on its Unix socket from the environment", async () => {
    const folder = scratchFolder();
    try {
      const script = join(folder.dir, "client.mjs");
      writeFileSync(
        script,
        `import { Bus } from ${JSON.stringify(join(root, "dist", "index.js"))};
const can = await Bus.open({ interface: "jumpstarter", channel: "can" });
const peer = await Bus.open({ interface: "jumpstarter", channel: "peer" });
await can.send({ id: 0x5a5, data: [1, 2, 3, 4] });
const m = await peer.recv({ timeoutMs: 5000 });
console.log("RESULT", JSON.stringify({ host: process.env.JUMPSTARTER_HOST, info: can.channelInfo, id: m?.id, data: [...(m?.data ?? [])] }));
await can.close();
await peer.close();
`,
      );
      const run = await runInJmpShell(referenceExporterConfig(), process.execPath, [script], {}, { timeoutMs: 40_000 });
      expect(run.code, run.stderr + run.stdout).toBe(0);
      const result = printedResult(run.stdout) as { host: string; info: string; id: number; data: number[] };
      expect(result.host).toMatch(/\/socket$/);
      expect(result.info).toBe(`Jumpstarter driver 'can' at unix:${result.host} (polled): Virtual bus channel js0`);
      expect([result.id, result.data]).toEqual([0x5a5, [1, 2, 3, 4]]);
    } finally {
      folder.remove();
    }
  }, 60_000);
});
