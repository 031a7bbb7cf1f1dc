/**
 * canwire's exporter (`serveExporter`) driven by the real Jumpstarter 0.9
 * clients: Python `env()` with `CanClient`/`IsoTpClient` over a Unix socket
 * and over TCP, `jmp shell --tls-grpc`, and raw grpcio calls with
 * `jumpstarter_protocol`'s own stubs for every bad input. One exporter
 * serves most tests; those that change the server (passphrase, TLS,
 * read-only, shutdown) start their own.
 */
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, type Exporter, IsoTp, type Message, serveExporter } from "../src/index.js";
import {
  printedResult,
  pythonPeers,
  runJmpShellTls,
  runPythonClient,
  scratchFolder,
  selfSignedCert,
  skipWithoutPythonPeers,
  stopAllPeers,
} from "./peers/index.js";

/** What every client script starts with: imports and a CanMessage → JSON helper. */
const prelude = `
import json, time, base64, struct
import can
from jumpstarter.common.utils import env
def msg(m):
    if m is None:
        return None
    return {"id": m.arbitration_id, "ext": m.is_extended_id, "remote": m.is_remote_frame, "fd": m.is_fd,
            "brs": m.bitrate_switch, "esi": m.error_state_indicator, "dlc": m.dlc, "data": m.data.hex(),
            "rx": m.is_rx, "channel": m.channel}
def failure(call):
    try:
        call()
        return None
    except Exception as e:
        return [type(e).__name__, str(e).split(" (Caused by: ")[0]]
`;

function py(body: string): string {
  return `${prelude}\n${body}`;
}

async function python(body: string, env: Record<string, string>, timeoutMs = 30_000): Promise<unknown> {
  const run = await runPythonClient(py(body), env, { timeoutMs });
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  return printedResult(run.stdout);
}

/** Every message `bus` receives within `ms`. */
async function drain(bus: Bus, ms = 100): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const m = await bus.recv({ timeoutMs: ms });
    if (!m) return out;
    out.push(m);
  }
}

function hex(data: Uint8Array): string {
  return Buffer.from(data).toString("hex");
}

function tcpEnv(exporter: Exporter, extra: Record<string, string> = {}): Record<string, string> {
  return { JUMPSTARTER_HOST: exporter.address, JMP_GRPC_INSECURE: "1", JMP_DRIVERS_ALLOW: "UNSAFE", ...extra };
}

const skip = skipWithoutPythonPeers();

describe("serveExporter's lifetime", () => {
  it("asyncDispose stops serving and closes what it opened, not what it was given", async () => {
    const given = await Bus.open({ interface: "virtual", channel: "jx-life" });
    let opened: Bus | undefined;
    let address = "";
    {
      await using exporter = await serveExporter({
        export: { given, opened: { type: "jumpstarter_driver_can.driver.Can", config: { channel: "jx-life", interface: "virtual" } } },
      });
      opened = exporter.exports.opened as Bus;
      address = exporter.address;
      expect(exporter.exports.given).toBe(given);
      expect(opened.closed).toBe(false);
    }
    expect(opened.closed).toBe(true);
    expect(given.closed).toBe(false);
    const [host, port] = address.split(":");
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), host, () => resolve("connected"));
      socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
    await given.close();
  });
});

describe("canwire's own Jumpstarter client against canwire's exporter (the streaming extension)", () => {
  it("receives every frame in order through canwire_recv_stream, and sends both ways", async () => {
    const exported = await Bus.open({ interface: "virtual", channel: "jx-self" });
    const local = await Bus.open({ interface: "virtual", channel: "jx-self" });
    const served = await serveExporter({ export: { can: exported } }, { passphrase: "p" });
    try {
      const refused = await Bus.open({ interface: "jumpstarter", host: served.address, insecure: true, passphrase: "q" }).catch((e) => e);
      expect(refused.code).toBe("ERR_UNAUTHENTICATED");
      const remote = await Bus.open({ interface: "jumpstarter", channel: "can", host: served.address, insecure: true, passphrase: "p" });
      try {
        const frames = 20_000;
        for (let i = 0; i < frames; i += 1000) {
          await local.sendBatch(
            Array.from({ length: 1000 }, (_, k) => ({ id: 0x100 + ((i + k) % 0x700), data: [(i + k) & 0xff, (i + k) >> 8] })),
          );
        }
        let order = 0;
        for (; order < frames; order++) {
          const m = await remote.recv({ timeoutMs: 5000 });
          if (!m || m.id !== 0x100 + (order % 0x700) || m.data[0] !== (order & 0xff) || m.data[1] !== order >> 8) break;
        }
        expect(order).toBe(frames);
        expect(remote.stats().readers[0]?.overflow).toBe(0);
        await remote.sendBatch([
          { id: 0x7e0, data: [2, 0x10, 3] },
          { id: 0x1abcdef0, extended: true, data: [] },
        ]);
        const seen = [await local.recv({ timeoutMs: 2000 }), await local.recv({ timeoutMs: 2000 })];
        expect(seen.map((m) => [m?.id, m?.extended, hex(m?.data ?? new Uint8Array())])).toEqual([
          [0x7e0, false, "021003"],
          [0x1abcdef0, true, ""],
        ]);
      } finally {
        await remote.close();
      }
    } finally {
      await served.close();
      await local.close();
      await exported.close();
    }
  });
});

describe("serveExporter refuses bad options and configurations", () => {
  async function refusal(config: unknown, options?: unknown): Promise<[string, string] | string> {
    try {
      const exporter = await serveExporter(config as object, options as object);
      await exporter.close();
      return "served";
    } catch (error) {
      return [(error as { code: string }).code, (error as Error).message];
    }
  }
  const config = { export: { can: { type: "Can", config: { channel: "jx-bad", interface: "virtual" } } } };

  it("names what was wrong and what is allowed", async () => {
    const folder = scratchFolder();
    try {
      const missing = join(folder.dir, "missing.pem");
      expect(await refusal(config, { listen: "somewhere" })).toEqual([
        "ERR_INVALID_ARGUMENT",
        "listen must be HOST:PORT with an IP address (127.0.0.1:4000, [::1]:4000, 0.0.0.0:4000), got 'somewhere'",
      ]);
      expect(await refusal(config, { listen: "127.0.0.1:0", unix: join(folder.dir, "s") })).toEqual([
        "ERR_INVALID_ARGUMENT",
        "listen and unix exclude each other: serve on one address",
      ]);
      expect(await refusal(config, { tlsCert: Buffer.from("x") })).toEqual([
        "ERR_INVALID_ARGUMENT",
        "tlsCert and tlsKey go together: give both (PEM) or neither",
      ]);
      expect(await refusal(config, { tlsCert: missing, tlsKey: missing })).toEqual([
        "ERR_INVALID_ARGUMENT",
        expect.stringMatching(/^cannot read tlsCert '.*missing\.pem': ENOENT/),
      ]);
      expect(await refusal(config, { tlsCert: Buffer.from("not pem"), tlsKey: Buffer.from("nor this") })).toEqual([
        "ERR_INVALID_ARGUMENT",
        expect.stringMatching(/^the TLS certificate or key is not usable PEM: /),
      ]);
      expect(await refusal(config, { passphrase: "" })).toEqual([
        "ERR_INVALID_ARGUMENT",
        "passphrase must not be empty: give one, or leave it out to serve without",
      ]);
      expect(await refusal(config, { readOnly: "yes" })).toEqual(["ERR_INVALID_ARGUMENT", expect.stringContaining("readOnly")]);
      expect(await refusal({ export: {} })).toEqual(["ERR_INVALID_ARGUMENT", "an exporter needs at least one export"]);
      expect(await refusal({ export: { can: { type: "Lin" } } })).toEqual([
        "ERR_INVALID_ARGUMENT",
        "export 'can' has type 'Lin': canwire opens Can, IsoTpPython and IsoTpSocket",
      ]);
      const socket = join(folder.dir, "busy.sock");
      const first = await serveExporter(config, { unix: socket });
      try {
        expect(await refusal(config, { unix: socket })).toEqual(["ERR_INVALID_ARGUMENT", `${socket} is in use by another server`]);
      } finally {
        await first.close();
      }
    } finally {
      folder.remove();
    }
  });
});

describe.skipIf(skip)("canwire's exporter driven by the real Jumpstarter 0.9 clients", () => {
  let exported: Bus;
  let local: Bus;
  let isoPeer: IsoTp;
  let exporter: Exporter;
  const clients: string[] = [];

  beforeAll(async () => {
    exported = await Bus.open({ interface: "virtual", channel: "jx-can", fd: true });
    local = await Bus.open({ interface: "virtual", channel: "jx-can", fd: true });
    exporter = await serveExporter(
      {
        apiVersion: "jumpstarter.dev/v1alpha1",
        kind: "ExporterConfig",
        export: {
          can: exported,
          isotp: {
            type: "jumpstarter_driver_can.driver.IsoTpPython",
            config: { channel: "jx-tp", interface: "virtual", address: { txid: 0x7e0, rxid: 0x7e8 } },
            description: "the ECU side",
          },
        },
      },
      { onClient: (address) => clients.push(address) },
    );
    isoPeer = await IsoTp.open({ interface: "virtual", channel: "jx-tp", address: { txid: 0x7e8, rxid: 0x7e0 } });
  });

  afterAll(async () => {
    await exporter?.close();
    await isoPeer?.close();
    await local?.close();
    await exported?.close();
    await stopAllPeers();
  });

  it("listens on 127.0.0.1 by default and tells about each client", async () => {
    expect(exporter.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(exporter.warnings).toEqual([]);
    const result = await python(
      `
with env() as c:
    print("RESULT", json.dumps({"root": type(c).__name__, "children": sorted(c.children),
        "can": type(c.can).__name__, "isotp": type(c.isotp).__name__,
        "labels": dict(c.can.labels), "description": c.isotp.description}))
`,
      tcpEnv(exporter),
    );
    expect(result).toEqual({
      root: "CompositeClient",
      children: ["can", "isotp"],
      can: "CanClient",
      isotp: "IsoTpClient",
      labels: {
        "jumpstarter.dev/client": "jumpstarter_driver_can.client.CanClient",
        "jumpstarter.dev/name": "can",
        "canwire.dev/streaming": "1",
      },
      description: "the ECU side",
    });
    expect(clients.at(-1)).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("env() over a Unix socket gets the single export's CanClient directly; frames cross both ways", async () => {
    const folder = scratchFolder();
    const bus = await Bus.open({ interface: "virtual", channel: "jx-unix" });
    const tester = await Bus.open({ interface: "virtual", channel: "jx-unix" });
    const socket = join(folder.dir, "exporter.sock");
    const unixClients: string[] = [];
    const served = await serveExporter({ export: { can: bus } }, { unix: socket, onClient: (a) => unixClients.push(a) });
    try {
      expect(served.address).toBe(socket);
      await tester.send({ id: 0x7ff, data: [0xaa, 0xbb] }); // queued before the client connects
      const result = await python(
        `
with env() as c:
    got = c.recv(5.0)
    c.send(can.Message(arbitration_id=0x1abcdef0, is_extended_id=True, data=b"\\x10\\x20"))
    print("RESULT", json.dumps({"type": type(c).__name__, "got": msg(got)}))
`,
        { JUMPSTARTER_HOST: socket, JMP_DRIVERS_ALLOW: "UNSAFE" },
      );
      expect(result).toEqual({
        type: "CanClient",
        got: {
          id: 0x7ff,
          ext: false,
          remote: false,
          fd: false,
          brs: false,
          esi: false,
          dlc: 2,
          data: "aabb",
          rx: true,
          channel: "jx-unix",
        },
      });
      const sent = await tester.recv({ timeoutMs: 2000 });
      expect(sent).toMatchObject({ id: 0x1abcdef0, extended: true, remote: false, fd: false });
      expect(hex(sent?.data ?? new Uint8Array())).toBe("1020");
      expect(unixClients).toEqual([`unix:${socket}`]);
    } finally {
      await served.close();
      await tester.close();
      await bus.close();
      folder.remove();
    }
  });

  it("standard, extended, remote and FD (BRS, ESI) frames cross with exact fields", async () => {
    await local.send({ id: 0x123, data: [1, 2, 3] });
    await local.send({ id: 0x1abcdef0, extended: true, data: [0xde, 0xad] });
    await local.send({ id: 0x321, remote: true, dlc: 4 });
    const fdData = Array.from({ length: 12 }, (_, i) => i + 1);
    await local.send({ id: 0x18daf110, extended: true, fd: true, bitrateSwitch: true, errorStateIndicator: true, data: fdData });
    const result = (await python(
      `
with env() as c:
    got = [msg(c.can.recv(5.0)) for _ in range(4)]
    c.can.send(can.Message(arbitration_id=0x7e0, is_extended_id=False, data=b"\\x02\\x10\\x03"))
    c.can.send(can.Message(arbitration_id=0x18daf1f1, is_extended_id=True, data=b""))
    c.can.send(can.Message(arbitration_id=0x100, is_extended_id=False, is_remote_frame=True, dlc=8))
    c.can.send(can.Message(arbitration_id=0x1fffffff, is_extended_id=True, is_fd=True, bitrate_switch=True,
                           error_state_indicator=False, data=bytes(range(64))))
    print("RESULT", json.dumps(got))
`,
      tcpEnv(exporter),
    )) as unknown[];
    const base = { rx: true, channel: "jx-can", remote: false, fd: false, brs: false, esi: false };
    expect(result).toEqual([
      { ...base, id: 0x123, ext: false, dlc: 3, data: "010203" },
      { ...base, id: 0x1abcdef0, ext: true, dlc: 2, data: "dead" },
      { ...base, id: 0x321, ext: false, remote: true, dlc: 4, data: "" },
      { ...base, id: 0x18daf110, ext: true, fd: true, brs: true, esi: true, dlc: 12, data: hex(Uint8Array.from(fdData)) },
    ]);
    const seen = await drain(local, 300);
    expect(seen.map((m) => [m.id, m.extended, m.remote, m.fd, m.bitrateSwitch, m.errorStateIndicator, m.dlc, hex(m.data)])).toEqual([
      [0x7e0, false, false, false, false, false, 3, "021003"],
      [0x18daf1f1, true, false, false, false, false, 0, ""],
      [0x100, false, true, false, false, false, 8, ""],
      [0x1fffffff, true, false, true, true, false, 64, hex(Uint8Array.from({ length: 64 }, (_, i) => i))],
    ]);
  });

  it("answers state, protocol, channel_info and flush like the Python driver; filters apply to the shared queue", async () => {
    await local.send({ id: 0x100, data: [1] });
    await local.send({ id: 0x200, data: [2] });
    const result = await python(
      `
with env() as c:
    state, protocol, info = str(c.can.state), str(c.can.protocol), c.can.channel_info
    c.can.flush_tx_buffer()
    c.can.set_filters([{"can_id": 0x200, "can_mask": 0x7ff, "extended": False}])
    first = msg(c.can.recv(2.0))
    rest = msg(c.can.recv(0.2))
    c.can.set_filters(None)
    print("RESULT", json.dumps({"state": state, "protocol": protocol, "info": info, "first": first, "rest": rest,
        "set_state": failure(lambda: setattr(c.can, "state", can.BusState.PASSIVE))}))
`,
      tcpEnv(exporter),
    );
    expect(result).toMatchObject({
      state: "BusState.ACTIVE",
      protocol: "CanProtocol.CAN_FD",
      info: exported.channelInfo,
      first: { id: 0x200, data: "02" },
      rest: null,
      set_state: ["DriverMethodNotImplemented", "DriverCall 'state' failed with gRPC UNIMPLEMENTED: Property is not implemented."],
    });
  });

  it("runs periodic tasks on canwire's scheduler with exact counts; a second stop is Python's KeyError", async () => {
    await drain(local, 50);
    const result = (await python(
      `
with env() as c:
    timed = c.can.send_periodic(can.Message(arbitration_id=0x555, is_extended_id=False, data=b"\\x55"), 0.05, 0.5)
    rotating = c.can.send_periodic([can.Message(arbitration_id=0x601, is_extended_id=False, data=b"\\x01"),
                                    can.Message(arbitration_id=0x602, is_extended_id=False, data=b"\\x02")], 0.02)
    time.sleep(0.8)
    rotating.stop()
    timed.stop()
    second = failure(timed.stop)
    print("RESULT", json.dumps({"uuid": str(timed.uuid), "second": second}))
`,
      tcpEnv(exporter),
    )) as { uuid: string; second: string[] };
    const seen = await drain(local, 200);
    expect(seen.filter((m) => m.id === 0x555).length).toBe(10);
    const rotating = seen.filter((m) => m.id === 0x601 || m.id === 0x602).map((m) => m.id);
    expect(rotating.length).toBeGreaterThanOrEqual(10);
    rotating.forEach((id, i) => expect(id).toBe(i % 2 === 0 ? 0x601 : 0x602));
    expect(result.second).toEqual(["DriverError", `DriverCall '_stop_task' failed with gRPC UNKNOWN: UUID('${result.uuid}')`]);
    expect(await local.recv({ timeoutMs: 100 })).toBeNull(); // both stopped
  });

  it("carries a 4095-byte ISO-TP payload both ways between IsoTpClient and a canwire IsoTp", async () => {
    const request = Uint8Array.from({ length: 4095 }, (_, i) => (i * 7) & 0xff);
    const response = Uint8Array.from({ length: 4095 }, (_, i) => (255 - i) & 0xff);
    const echoed = isoPeer.recv({ timeoutMs: 20_000 }).then(async (payload) => {
      await isoPeer.send(response);
      return payload;
    });
    const result = await python(
      `
with env() as c:
    tp = c.isotp
    idle = [tp.available(), tp.transmitting()]
    tp.start()
    again = failure(tp.start)
    tp.send(bytes((i * 7) & 0xff for i in range(4095)))
    got = tp.recv(True, 15.0)
    tp.stop()
    print("RESULT", json.dumps({"idle": idle, "again": again, "len": len(got),
        "ok": got == bytes((255 - i) & 0xff for i in range(4095)), "nothing": tp.recv(False, None)}))
`,
      tcpEnv(exporter),
    );
    expect(result).toEqual({
      idle: [false, false],
      again: ["DriverError", "DriverCall 'start' failed with gRPC UNKNOWN: Transport Layer is already started"],
      len: 4095,
      ok: true,
      nothing: null,
    });
    expect(hex((await echoed) ?? new Uint8Array())).toBe(hex(request));
  });

  it("set_address takes both shapes IsoTpClient sends (Address, AsymmetricAddress)", async () => {
    // One canwire peer per address, so neither side changes address mid-exchange.
    const fixedPeer = await IsoTp.open({
      interface: "virtual",
      channel: "jx-tp",
      address: { mode: "NormalFixed_29bits", targetAddress: 0xf1, sourceAddress: 0x10 },
    });
    const answer = (peer: IsoTp, reply: number[]) =>
      peer.recv({ timeoutMs: 20_000 }).then(async (payload) => {
        await peer.send(Uint8Array.from(reply));
        return hex(payload ?? new Uint8Array());
      });
    const peerSide = Promise.all([answer(fixedPeer, [0x62, 0xf1, 0x90]), answer(isoPeer, [0x7e, 0x00])]);
    const result = await python(
      `
import isotp
with env() as c:
    tp = c.isotp
    tp.start()
    tp.set_address(isotp.Address(isotp.AddressingMode.NormalFixed_29bits, target_address=0x10, source_address=0xF1))
    tp.send(b"\\x22\\xf1\\x90")
    first = tp.recv(True, 10.0)
    tp.set_address(isotp.AsymmetricAddress(
        tx_addr=isotp.Address(isotp.AddressingMode.Normal_11bits, txid=0x7E0, tx_only=True),
        rx_addr=isotp.Address(isotp.AddressingMode.Normal_11bits, rxid=0x7E8, rx_only=True)))
    tp.send(b"\\x3e\\x00")
    second = tp.recv(True, 10.0)
    tp.stop()
    print("RESULT", json.dumps([first.hex(), second.hex()]))
`,
      tcpEnv(exporter),
    );
    expect(result).toEqual(["62f190", "7e00"]);
    expect(await peerSide).toEqual(["22f190", "3e00"]);
    await fixedPeer.close();
  });

  it("runs a Python script under the unmodified jmp shell --tls-grpc", async () => {
    await local.send({ id: 0x42, data: [0x42] });
    const folder = scratchFolder();
    try {
      const script = join(folder.dir, "test.py");
      await import("node:fs/promises").then((fs) =>
        fs.writeFile(script, py(`with env() as c:\n    print("RESULT", json.dumps(msg(c.can.recv(5.0))))\n`)),
      );
      const run = await runJmpShellTls(exporter.address, { insecure: true, timeoutMs: 40_000 }, pythonPeers().python, [script]);
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(printedResult(run.stdout)).toMatchObject({ id: 0x42, data: "42" });
    } finally {
      folder.remove();
    }
  }, 60_000);
});

describe.skipIf(skip)("canwire's exporter: security and lifetime against the real clients", () => {
  afterAll(() => stopAllPeers());

  it("refuses a missing or wrong passphrase with UNAUTHENTICATED, in env() and in jmp shell", async () => {
    const bus = await Bus.open({ interface: "virtual", channel: "jx-pass" });
    const served = await serveExporter({ export: { can: bus } }, { passphrase: "open sesame" });
    try {
      const body = `
with env() as c:
    print("RESULT", json.dumps(c.channel_info))
`;
      const refused = await runPythonClient(py(body), tcpEnv(served));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("UNAUTHENTICATED");
      expect(refused.stderr).toContain("invalid or missing passphrase");
      expect(await python(body, tcpEnv(served, { JMP_GRPC_PASSPHRASE: "open sesame" }))).toBe(bus.channelInfo);
      const shell = await runJmpShellTls(served.address, { insecure: true, passphrase: "wrong" }, "true");
      expect(shell.code).toBe(1);
      expect(`${shell.stdout}${shell.stderr}`).toContain("invalid or missing passphrase");
    } finally {
      await served.close();
      await bus.close();
    }
  }, 60_000);

  it("serves TLS with a self-signed certificate the client trusts through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", async () => {
    const folder = scratchFolder();
    const bus = await Bus.open({ interface: "virtual", channel: "jx-tls" });
    try {
      const cert = selfSignedCert(folder.dir);
      const served = await serveExporter({ export: { can: bus } }, { tlsCert: cert.cert, tlsKey: cert.key });
      try {
        const env = { JUMPSTARTER_HOST: served.address, JMP_DRIVERS_ALLOW: "UNSAFE", ...cert.env };
        expect(await python(`with env() as c:\n    print("RESULT", json.dumps(c.channel_info))\n`, env)).toBe(bus.channelInfo);
        const plaintext = await runPythonClient(py(`with env() as c:\n    print(c.channel_info)\n`), tcpEnv(served));
        expect(plaintext.code).not.toBe(0);
        expect(plaintext.stderr).toContain("UNAVAILABLE");
      } finally {
        await served.close();
      }
    } finally {
      await bus.close();
      folder.remove();
    }
  }, 60_000);

  it("read-only: sends, periodic tasks, state changes, flush and shutdown are PERMISSION_DENIED; receiving works", async () => {
    const bus = await Bus.open({ interface: "virtual", channel: "jx-ro" });
    const tester = await Bus.open({ interface: "virtual", channel: "jx-ro" });
    const served = await serveExporter({ export: { can: bus } }, { readOnly: true });
    try {
      await tester.send({ id: 0x10, data: [1] });
      const result = await python(
        `
with env() as c:
    m = can.Message(arbitration_id=1, is_extended_id=False)
    print("RESULT", json.dumps({"got": msg(c.recv(5.0)), "send": failure(lambda: c.send(m)),
        "periodic": failure(lambda: c.send_periodic(m, 0.1)), "flush": failure(c.flush_tx_buffer),
        "state": failure(lambda: setattr(c, "state", can.BusState.PASSIVE)), "shutdown": failure(c.shutdown)}))
`,
        tcpEnv(served),
      );
      const denied = (method: string, what: string) => [
        "DriverError",
        `DriverCall '${method}' failed with gRPC PERMISSION_DENIED: this exporter is read-only: ${what} is refused (receiving works)`,
      ];
      expect(result).toMatchObject({
        got: { id: 0x10, data: "01" },
        send: denied("send", "send"),
        periodic: denied("_send_periodic_internal", "_send_periodic_internal"),
        flush: denied("flush_tx_buffer", "flush_tx_buffer"),
        state: denied("state", "setting the state"),
        shutdown: denied("shutdown", "shutdown"),
      });
      expect(await tester.recv({ timeoutMs: 100 })).toBeNull();
    } finally {
      await served.close();
      await tester.close();
      await bus.close();
    }
  });

  it("shutdown kills the bus for every later client: Cannot operate on a closed bus", async () => {
    const bus = await Bus.open({ interface: "virtual", channel: "jx-shut" });
    const served = await serveExporter({ export: { can: bus } });
    try {
      const result = await python(
        `
with env() as c:
    c.shutdown()
with env() as c:
    print("RESULT", json.dumps({"send": failure(lambda: c.send(can.Message(arbitration_id=1, is_extended_id=False))),
        "recv": failure(lambda: c.recv(0.1))}))
`,
        tcpEnv(served),
      );
      const closed = (method: string) => ["DriverError", `DriverCall '${method}' failed with gRPC UNKNOWN: Cannot operate on a closed bus`];
      expect(result).toEqual({ send: closed("send"), recv: closed("_recv_internal") });
      expect(bus.closed).toBe(true);
    } finally {
      await served.close();
      await bus.close();
    }
  });
});
