import { describe, expect, it } from "vitest";
import { Bus, BusClosedError, type CanFilter, filtersMatch, Message, UnsupportedError } from "../src/index.js";
import { pair, recvN, uniqueChannel } from "./helpers.js";

describe("filters", () => {
  async function passing(filters: CanFilter[], frames: Array<{ id: number; extended?: boolean; error?: boolean }>, join = false) {
    const { tx, rx } = await pair();
    rx.setFilters(filters, { join });
    for (const f of frames) await tx.send({ ...f, data: f.error ? new Uint8Array(8) : [] });
    await tx.send({ id: 0x7ff, error: true, data: new Uint8Array(8) }); // end marker: errors bypass filters
    const got: string[] = [];
    for (;;) {
      const m = (await rx.recv({ timeoutMs: 1000 }))!;
      if (m.error && m.id === 0x7ff) break;
      got.push(`${m.extended ? "x" : "s"}${m.id.toString(16)}${m.error ? "e" : ""}`);
    }
    const stats = rx.stats();
    await tx.close();
    await rx.close();
    return { got, stats };
  }

  const frames = [{ id: 0x120 }, { id: 0x12f }, { id: 0x130 }, { id: 0x120, extended: true }, { id: 0x18daf110, extended: true }];

  it("pass (id ^ filter.id) & mask == 0, any filter", async () => {
    const { got, stats } = await passing([{ id: 0x120, mask: 0x7f0 }], frames);
    expect(got).toEqual(["s120", "s12f", "x120"]);
    expect(stats.rxFiltered).toBe(2);
  });

  it("match the format when extended is given", async () => {
    expect((await passing([{ id: 0x120, mask: 0x7f0, extended: false }], frames)).got).toEqual(["s120", "s12f"]);
    expect((await passing([{ id: 0x18daf110, mask: 0x1fffffff, extended: true }], frames)).got).toEqual(["x18daf110"]);
  });

  it("inverted filters pass everything else; join requires all", async () => {
    expect((await passing([{ id: 0x120, mask: 0x7ff, inverted: true }], frames)).got).toEqual(["s12f", "s130", "x18daf110"]);
    const join = [
      { id: 0x100, mask: 0x700 },
      { id: 0x120, mask: 0x7ff, inverted: true },
    ];
    expect((await passing(join, frames, true)).got).toEqual(["s12f", "s130", "x18daf110"]);
  });

  it("error frames are not subject to id filters", async () => {
    expect((await passing([{ id: 0x1, mask: 0x7ff }], [{ id: 0x4, error: true }, { id: 0x2 }])).got).toEqual(["s4e"]);
  });

  it("an empty list passes everything and the JS matcher agrees with the native one", async () => {
    const filters = [
      { id: 0x120, mask: 0x7f0 },
      { id: 0x18daf110, mask: 0x1fffffff, extended: true },
    ];
    const { got } = await passing(filters, frames);
    const expected = frames.filter((f) => filtersMatch(filters, f.id, f.extended ?? false));
    expect(got).toHaveLength(expected.length);
    expect((await passing([], frames)).got).toHaveLength(frames.length);
  });

  it("reject bad filters with ERR_INVALID_ARGUMENT", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    expect(() => bus.setFilters([{ id: 0x20000000, mask: 0 }])).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(() => bus.setFilters([{ id: 1 } as CanFilter])).toThrow(/filters\[0\]\.mask/);
    await bus.close();
  });
});

describe("delivery", () => {
  it("keeps order across 100 000 frames, per message and in batches", async () => {
    const { tx, rx } = await pair({ rxQueueSize: 100_000 });
    const batchReader = rx.reader({ capacity: 100_000 });
    const n = 100_000;
    for (let start = 0; start < n; start += 1000) {
      await tx.sendBatch(
        Array.from(
          { length: 1000 },
          (_, i) => new Message({ id: (start + i) % 0x800, data: [(start + i) & 0xff, ((start + i) >> 8) & 0xff, (start + i) >> 16] }),
        ),
      );
    }
    let seen = 0;
    for await (const m of rx) {
      const seq = m.data[0]! | (m.data[1]! << 8) | (m.data[2]! << 16);
      expect(seq).toBe(seen);
      if (++seen === n) break;
    }
    let batched = 0;
    while (batched < n) {
      const batch = (await batchReader.recvBatch({ max: 7777, timeoutMs: 1000 }))!;
      expect(batch.length).toBeLessThanOrEqual(7777);
      for (let i = 0; i < batch.length; i++) expect(batch.id(i)).toBe((batched + i) % 0x800);
      batched += batch.length;
    }
    expect(rx.stats().rxDroppedQueueFull).toBe(0);
    await tx.close();
    await rx.close();
  });

  it("delivers own frames only with receiveOwnMessages, marked isRx false", async () => {
    const channel = uniqueChannel();
    const own = await Bus.open({ channel, receiveOwnMessages: true });
    const plain = await Bus.open({ channel });
    await own.send({ id: 1 });
    await plain.send({ id: 2 });
    expect((await recvN(own, 2)).map((m) => [m.id, m.isRx])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect((await recvN(plain, 1)).map((m) => [m.id, m.isRx])).toEqual([[1, true]]);
    expect(await plain.recv({ timeoutMs: 20 })).toBeNull();
    await own.close();
    await plain.close();
  });

  it("counts FD frames reaching a classic bus instead of delivering them", async () => {
    const channel = uniqueChannel();
    const fd = await Bus.open({ channel, fd: true });
    const classic = await Bus.open({ channel });
    await fd.send({ id: 1, fd: true, data: [1] });
    await fd.send({ id: 2, data: [2] });
    expect((await recvN(classic, 1))[0]!.id).toBe(2);
    expect(classic.stats().rxDroppedFdOnClassic).toBe(1);
    await fd.close();
    await classic.close();
  });

  it("overflow never blocks the sender and is counted exactly", async () => {
    const channel = uniqueChannel();
    const tx = await Bus.open({ channel });
    const rx = await Bus.open({ channel, rxQueueSize: 100 });
    const started = performance.now();
    const sent = await tx.sendBatch(Array.from({ length: 250 }, (_, i) => ({ id: i })));
    expect(sent).toBe(250);
    expect(performance.now() - started).toBeLessThan(1000);
    const stats = rx.stats();
    expect(stats.readers[0]).toEqual({ capacity: 100, queued: 100, delivered: 100, overflow: 150 });
    expect(stats.rxDroppedQueueFull).toBe(150);
    expect(stats.rxFrames).toBe(250);
    const got = await recvN(rx, 100);
    expect(got.map((m) => m.id)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(await rx.recv({ timeoutMs: 10 })).toBeNull();
    await tx.close();
    await rx.close();
  });

  it("gives several readers every frame, each with its own bound and counter", async () => {
    const { tx, rx } = await pair();
    const big = rx.reader({ capacity: 1000 });
    const small = rx.reader({ capacity: 10 });
    await tx.sendBatch(Array.from({ length: 50 }, (_, i) => ({ id: i })));
    expect((await big.recvBatch({ timeoutMs: 100 }))!.length).toBe(50);
    expect((await small.recvBatch({ timeoutMs: 100 }))!.length).toBe(10);
    expect(small.stats()).toEqual({ capacity: 10, queued: 0, delivered: 10, overflow: 40 });
    expect(big.stats().overflow).toBe(0);
    expect(rx.stats().readers).toHaveLength(3);
    expect(rx.stats().rxDroppedQueueFull).toBe(40);
    small.close();
    expect(rx.stats().readers).toHaveLength(2);
    expect(rx.stats().rxDroppedQueueFull).toBe(40);
    await tx.close();
    await rx.close();
  });

  it("a recv times out with null, roughly on time", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    const t0 = performance.now();
    expect(await bus.recv({ timeoutMs: 50 })).toBeNull();
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    await expect(bus.recv({ timeoutMs: -1 })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await bus.close();
  });
});

it("concurrent waits on one reader: a timed-out wait leaves the others armed, one frame wakes them all", async () => {
  const { tx, rx } = await pair();
  const short = rx.recvBatch({ timeoutMs: 20 });
  const long1 = rx.recvBatch({ timeoutMs: 300 });
  const long2 = rx.recvBatch({ timeoutMs: 300 });
  expect(await short).toBeNull();
  await tx.send({ id: 0x123, data: [1, 2] });
  const [a, b] = await Promise.all([long1, long2]);
  // one batch holds the frame; the other wait woke, found nothing and timed out
  expect([a, b].filter(Boolean)).toHaveLength(1);
  const m = (a ?? b)!.message(0);
  expect([m.id, Array.from(m.data)]).toEqual([0x123, [1, 2]]);
  await tx.close();
  await rx.close();
});

describe("lifetimes", () => {
  it("close is idempotent, keeps queued frames readable, then ends reads with ERR_CLOSED", async () => {
    const { tx, rx } = await pair();
    await tx.send({ id: 7 });
    await new Promise((r) => setTimeout(r, 5));
    await rx.close();
    await rx.close();
    await rx.shutdown();
    expect(rx.closed).toBe(true);
    expect((await rx.recv({ timeoutMs: 100 }))!.id).toBe(7);
    await expect(rx.recv()).rejects.toBeInstanceOf(BusClosedError);
    await expect(rx.send({ id: 1 })).rejects.toMatchObject({ code: "ERR_CLOSED" });
    await tx.close();
  });

  it("close ends a pending for-await and a pending recv", async () => {
    const { tx, rx } = await pair();
    const loop = (async () => {
      let n = 0;
      for await (const _ of rx) n++;
      return n;
    })();
    const pendingRecv = rx.reader().recv();
    await tx.send({ id: 1 });
    await new Promise((r) => setTimeout(r, 20));
    await rx.close();
    expect(await loop).toBe(1);
    expect((await pendingRecv)!.id).toBe(1);
    await tx.close();
  });

  it("await using closes the bus", async () => {
    let outer: Bus | undefined;
    {
      await using bus = await Bus.open({ channel: uniqueChannel() });
      outer = bus;
      expect(bus.closed).toBe(false);
    }
    expect(outer.closed).toBe(true);
  });

  it("breaking out of a reader's for-await releases it; the bus's own queue survives a break", async () => {
    const { tx, rx } = await pair();
    const reader = rx.reader();
    await tx.sendBatch([{ id: 1 }, { id: 2 }, { id: 3 }]);
    for await (const m of reader) {
      expect(m.id).toBe(1);
      break;
    }
    expect(reader.closed).toBe(true);
    expect(rx.stats().readers).toHaveLength(1);
    for await (const m of rx) {
      expect(m.id).toBe(1);
      break;
    }
    expect((await rx.recv({ timeoutMs: 100 }))!.id).toBe(2);
    const batch = (await rx.recvBatch({ timeoutMs: 100 }))!;
    expect(batch.length).toBe(1);
    expect(batch.id(0)).toBe(3);
    await tx.close();
    await rx.close();
  });

  it("reports state, protocol and channel", async () => {
    const channel = uniqueChannel();
    const bus = await Bus.open({ channel, fd: true });
    expect([bus.state, bus.protocol, bus.channelInfo, bus.interface, bus.channel]).toEqual([
      "active",
      "CAN_FD",
      `virtual channel '${channel}'`,
      "virtual",
      channel,
    ]);
    expect(Bus.virtualChannels()).toContain(channel);
    await bus.flushTxBuffer();
    await bus.close();
    expect(Bus.virtualChannels()).not.toContain(channel);
    expect((await Bus.open()).channel).toBe("channel-0");
  });
});

describe("errors", () => {
  it("an unknown interface is an UnsupportedError", async () => {
    await expect(Bus.open({ interface: "pcan" as "virtual" })).rejects.toSatisfy(
      (e) => e instanceof UnsupportedError && (e as UnsupportedError).code === "ERR_UNKNOWN_INTERFACE" && /pcan/.test((e as Error).message),
    );
  });

  it("bad options are ERR_INVALID_ARGUMENT", async () => {
    await expect(Bus.open({ channel: "" })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(Bus.open({ rxQueueSize: 0 })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    for (const rxCoalesceUs of [-1, 1.5, 1_000_001]) {
      await expect(Bus.open({ interface: "socketcan", channel: "vcan0", rxCoalesceUs })).rejects.toMatchObject({
        code: "ERR_INVALID_ARGUMENT",
        message: `rxCoalesceUs must be an integer 0..1000000 (µs), got ${rxCoalesceUs}`,
      });
    }
  });

  it("a native panic becomes an InternalError, not a crash", async () => {
    const { binding } = await import("../src/binding.js");
    const { native } = await import("../src/errors.js");
    expect(() => native(() => binding.debugPanic())).toThrow(expect.objectContaining({ code: "ERR_INTERNAL" }));
  });
});
