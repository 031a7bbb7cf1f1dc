/**
 * canwire's client against canwire's exporter (`serveExporter`): the
 * streaming extension (`canwire.dev/streaming`: batched receive through
 * `canwire_recv_stream`, batched send through `canwire_send_batch`), used
 * because the report offers it, and the rest of the driver's calls as the
 * Python driver makes them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Bus, CanError, type Exporter, IsoTp, type Message, serveExporter } from "../src/index.js";
import { uniqueChannel } from "./helpers.js";

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

function fieldsOf(m: Message): Record<string, unknown> {
  return {
    id: m.id,
    extended: m.extended,
    remote: m.remote,
    fd: m.fd,
    bitrateSwitch: m.bitrateSwitch,
    errorStateIndicator: m.errorStateIndicator,
    dlc: m.dlc,
    data: [...m.data],
  };
}

const FRAMES = [
  { id: 0x123, extended: false, remote: false, fd: false, bitrateSwitch: false, errorStateIndicator: false, dlc: 3, data: [1, 2, 3] },
  {
    id: 0x1abcdef0,
    extended: true,
    remote: false,
    fd: false,
    bitrateSwitch: false,
    errorStateIndicator: false,
    dlc: 2,
    data: [0xde, 0xad],
  },
  { id: 0x7ff, extended: false, remote: true, fd: false, bitrateSwitch: false, errorStateIndicator: false, dlc: 4, data: [] },
  {
    id: 0x18daf110,
    extended: true,
    remote: false,
    fd: true,
    bitrateSwitch: true,
    errorStateIndicator: true,
    dlc: 12,
    data: Array(12).fill(0x5a),
  },
];

async function recvAll(bus: Bus, n: number): Promise<Message[]> {
  const got: Message[] = [];
  while (got.length < n) {
    const m = await bus.recv({ timeoutMs: 5000 });
    if (!m) break;
    got.push(m);
  }
  return got;
}

describe("canwire's client against canwire's exporter (streaming)", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** An exporter of one FD virtual bus; `local` is another bus on its channel. */
  async function served(options: Parameters<typeof serveExporter>[1] = {}): Promise<{ exporter: Exporter; local: Bus; exported: Bus }> {
    const channel = uniqueChannel();
    const exported = await Bus.open({ interface: "virtual", channel, fd: true });
    const local = await Bus.open({ interface: "virtual", channel, fd: true });
    const exporter = await serveExporter({ export: { can: exported } }, options);
    cleanups.push(async () => {
      await exporter.close();
      await exported.close();
      await local.close();
    });
    return { exporter, local, exported };
  }

  async function client(exporter: Exporter, extra: Partial<Parameters<typeof Bus.open>[0]> = {}): Promise<Bus> {
    const bus = await Bus.open({ interface: "jumpstarter", channel: "can", host: exporter.address, insecure: true, fd: true, ...extra });
    cleanups.push(() => bus.close());
    return bus;
  }

  it("streams frames both ways with exact fields, and says so in channelInfo", async () => {
    const { exporter, local } = await served();
    const bus = await client(exporter);
    expect(bus.channelInfo).toMatch(new RegExp(`^Jumpstarter streaming driver 'can' at ${exporter.address}: `));
    await local.sendBatch(FRAMES);
    const got = await recvAll(bus, FRAMES.length);
    expect(got.map(fieldsOf)).toEqual(FRAMES);
    expect(got.every((m) => m.channel === "can" && m.isRx)).toBe(true);
    expect(await bus.sendBatch(FRAMES)).toBe(FRAMES.length);
    expect((await recvAll(local, FRAMES.length)).map(fieldsOf)).toEqual(FRAMES);
  }, 20_000);

  it("receives 50 000 frames in order with nothing lost", async () => {
    const { exporter, local } = await served();
    const bus = await client(exporter);
    const total = 50_000;
    const batch = (start: number) =>
      Array.from({ length: 1000 }, (_, i) => ({ id: (start + i) & 0x7ff, data: [((start + i) >> 8) & 0xff, (start + i) & 0xff] }));
    let received = 0;
    let inOrder = true;
    const reading = (async () => {
      while (received < total) {
        const got = await bus.recvBatch({ max: 65_536, timeoutMs: 5000 });
        if (!got) break;
        for (const m of got) {
          if ((((m.data[0] ?? 0) << 8) | (m.data[1] ?? 0)) !== (received & 0xffff)) inOrder = false;
          received++;
        }
      }
    })();
    for (let sent = 0; sent < total; sent += 1000) {
      while (sent - received > 30_000) await new Promise((resolve) => setTimeout(resolve, 1));
      await local.sendBatch(batch(sent));
    }
    await reading;
    expect(received).toBe(total);
    expect(inOrder).toBe(true);
    expect(bus.stats().rxDroppedKernel).toBe(0);
  }, 30_000);

  it("runs periodic tasks on the exporter with exact counts", async () => {
    const { exporter, local } = await served();
    const bus = await client(exporter);
    const task = bus.sendPeriodic({ id: 0x55, data: [5] }, { periodMs: 20, count: 5 });
    const got = await recvAll(local, 5);
    expect(got.map((m) => m.id)).toEqual([0x55, 0x55, 0x55, 0x55, 0x55]);
    expect(await local.recv({ timeoutMs: 300 })).toBeNull();
    expect(task.running).toBe(false);
    task.stop();
  }, 20_000);

  it("a read-only exporter refuses sends: the refusal reaches the next send, and periodic tasks at once", async () => {
    const { exporter, local } = await served({ readOnly: true });
    const bus = await client(exporter);
    await local.send({ id: 0x10, data: [1] });
    expect((await bus.recv({ timeoutMs: 5000 }))?.id).toBe(0x10);
    await bus.send({ id: 0x11, data: [1] });
    let refusal: [string, string] | undefined;
    for (let i = 0; i < 50 && !refusal; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        await bus.send({ id: 0x11, data: [1] });
      } catch (error) {
        if (error instanceof CanError) refusal = [error.code, error.message];
      }
    }
    expect(refusal?.[0]).toBe("ERR_PERMISSION_DENIED");
    expect(refusal?.[1]).toMatch(/^an earlier send failed on the exporter: /);
    expect(bus.stats().txErrors).toBeGreaterThan(0);
    const [code] = await rejection(Promise.resolve().then(() => bus.sendPeriodic({ id: 1, data: [] }, { periodMs: 10 })));
    expect(code).toBe("ERR_PERMISSION_DENIED");
  }, 20_000);

  it("the exported bus closing ends the client's readers with ERR_REMOTE and the exporter's text", async () => {
    const { exporter, exported } = await served();
    const bus = await client(exporter);
    const pending = rejection(bus.recv());
    await exported.close();
    expect(await pending).toEqual(["ERR_REMOTE", "Cannot operate on a closed bus"]);
  }, 20_000);

  it("an exporter that goes away ends a pending read with ERR_UNREACHABLE naming its address", async () => {
    const { exporter } = await served();
    const bus = await client(exporter);
    const pending = rejection(bus.recv());
    const closedAt = Date.now();
    await exporter.close();
    const [code, message] = await pending;
    expect(Date.now() - closedAt).toBeLessThan(10_000);
    expect(code).toBe("ERR_UNREACHABLE");
    expect(message).toContain(exporter.address);
  }, 20_000);

  it("moves a 4095-byte ISO-TP payload both ways between two clients of an exporter's stacks", async () => {
    const channel = uniqueChannel();
    const exporter = await serveExporter(`
export:
  isotp: {type: jumpstarter_driver_can.driver.IsoTpPython, config: {channel: ${channel}, interface: virtual, address: {txid: 0x7E0, rxid: 0x7E8}}}
  isotp_peer: {type: jumpstarter_driver_can.driver.IsoTpPython, config: {channel: ${channel}, interface: virtual, address: {txid: 0x7E8, rxid: 0x7E0}}}
`);
    cleanups.push(() => exporter.close());
    const open = (name: string) => IsoTp.open({ interface: "jumpstarter", channel: name, host: exporter.address, insecure: true });
    const a = await open("isotp");
    const b = await open("isotp_peer");
    cleanups.push(async () => {
      await a.close();
      await b.close();
    });
    const there = Uint8Array.from({ length: 4095 }, (_, i) => (i * 7) & 0xff);
    await a.send(there, { blocking: true, sendTimeoutMs: 10_000 });
    expect(Buffer.from((await b.recv({ timeoutMs: 10_000 })) ?? []).equals(Buffer.from(there))).toBe(true);
    const back = Uint8Array.from({ length: 4095 }, (_, i) => (i * 3 + 1) & 0xff);
    await b.send(back);
    expect(Buffer.from((await a.recv({ timeoutMs: 10_000 })) ?? []).equals(Buffer.from(back))).toBe(true);
    expect(a.stats()).toMatchObject({ txComplete: 1, rxPayloads: 1 });
  }, 30_000);
});
