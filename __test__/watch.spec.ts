import { describe, expect, it } from "vitest";
import { Bus, type WatchEvent } from "../src/index.js";
import { pair, uniqueChannel } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const summary = (e: WatchEvent | null) =>
  e ? { type: e.type, id: e.message?.id, data: e.message ? [...e.message.data] : undefined } : null;

describe("bus.watch on the virtual bus", () => {
  it("a cyclic sender that stops gives one timeout event, timeoutMs after its last frame", async () => {
    const { tx, rx } = await pair();
    await using watch = rx.watch(0x100, { timeoutMs: 100, changeMask: [0xff] });
    expect(watch.backend).toBe("native");
    const task = tx.sendPeriodic({ id: 0x100, data: [1] }, { periodMs: 10 });
    expect(summary(await watch.next({ timeoutMs: 1000 }))).toEqual({ type: "changed", id: 0x100, data: [1] });
    await sleep(80);
    task.stop();
    const lastSent = BigInt(Date.now()) * 1_000_000n;
    const timeout = await watch.next({ timeoutMs: 1000 });
    expect(summary(timeout)).toEqual({ type: "timeout", id: undefined, data: undefined });
    const after = Number(timeout!.timestampNs - lastSent) / 1e6;
    expect(after).toBeGreaterThan(85); // the last frame went at most one period before lastSent
    expect(after).toBeLessThan(250);
    expect(await watch.next({ timeoutMs: 300 })).toBeNull(); // one timeout per silence
    await tx.close();
    await rx.close();
  });

  it("a change under the mask is a changed event with the new message; outside the mask nothing", async () => {
    const { tx, rx } = await pair();
    await using watch = rx.watch(0x200, { changeMask: [0x0f, 0xff] });
    const task = tx.sendPeriodic({ id: 0x200, data: [0x01, 0x00, 0x77] }, { periodMs: 5 });
    expect(summary(await watch.next({ timeoutMs: 1000 }))).toEqual({ type: "changed", id: 0x200, data: [1, 0, 0x77] });
    task.modifyData([{ id: 0x200, data: [0x11, 0x00, 0x66] }]); // upper nibble and byte 2: outside the mask
    await sleep(50);
    expect(await watch.next({ timeoutMs: 0 })).toBeNull();
    task.modifyData([{ id: 0x200, data: [0x11, 0x80, 0x66] }]);
    const changed = await watch.next({ timeoutMs: 1000 });
    expect(summary(changed)).toEqual({ type: "changed", id: 0x200, data: [0x11, 0x80, 0x66] });
    expect(changed!.timestampNs).toBe(changed!.message!.timestampNs);
    await tx.sendBatch([
      { id: 0x201, data: [9] },
      { id: 0x200, extended: true, data: [9] },
    ]); // other ids
    await sleep(30);
    expect(await watch.next({ timeoutMs: 0 })).toBeNull();
    task.stop();
    await tx.close();
    await rx.close();
  });

  it("without a mask every frame is received; throttling releases the latest after throttleMs", async () => {
    const { tx, rx } = await pair();
    await using plain = rx.watch(0x300);
    await using throttled = rx.watch(0x300, { throttleMs: 80 });
    await tx.sendBatch([1, 2, 3, 4, 5].map((b) => ({ id: 0x300, data: [b] })));
    const got = [];
    for (let i = 0; i < 5; i++) got.push(summary(await plain.next({ timeoutMs: 1000 })));
    expect(got.map((g) => g!.data)).toEqual([[1], [2], [3], [4], [5]]);
    expect(got.every((g) => g!.type === "received")).toBe(true);
    const first = await throttled.next({ timeoutMs: 1000 });
    const released = await throttled.next({ timeoutMs: 1000 });
    expect([summary(first)!.data, summary(released)!.data]).toEqual([[1], [5]]);
    expect(Number(released!.timestampNs - first!.timestampNs) / 1e6).toBeLessThan(5); // frames keep their own time
    expect(await throttled.next({ timeoutMs: 200 })).toBeNull();
    await tx.close();
    await rx.close();
  });

  it("after a timeout the same data coming back is announced (announceResume), unless turned off", async () => {
    const { tx, rx } = await pair();
    await using resume = rx.watch(0x400, { timeoutMs: 50, changeMask: [0xff] });
    await using quiet = rx.watch(0x400, { timeoutMs: 50, changeMask: [0xff], announceResume: false });
    await tx.send({ id: 0x400, data: [7] });
    for (const w of [resume, quiet]) expect(summary(await w.next({ timeoutMs: 1000 }))!.type).toBe("changed");
    for (const w of [resume, quiet]) expect(summary(await w.next({ timeoutMs: 1000 }))!.type).toBe("timeout");
    await tx.send({ id: 0x400, data: [7] });
    expect(summary(await resume.next({ timeoutMs: 1000 }))).toEqual({ type: "changed", id: 0x400, data: [7] });
    // Without it, the same data is no change; the frame only re-arms the timeout.
    expect(summary(await quiet.next({ timeoutMs: 1000 }))!.type).toBe("timeout");
    await tx.close();
    await rx.close();
  });

  it("FD and extended ids, checkDlc", async () => {
    const { tx, rx } = await pair({ fd: true });
    await using fd = rx.watch(0x1abcdef, { extended: true, fd: true, changeMask: new Uint8Array(64).fill(0xff), checkDlc: true });
    await tx.send({ id: 0x1abcdef, extended: true, fd: true, data: new Uint8Array(12) });
    await tx.send({ id: 0x1abcdef, extended: true, data: [0] }); // classic: not watched
    await tx.send({ id: 0x1abcdef, extended: true, fd: true, data: new Uint8Array(16) }); // length only
    const a = await fd.next({ timeoutMs: 1000 });
    const b = await fd.next({ timeoutMs: 1000 });
    expect([a!.message!.data.length, b!.message!.data.length]).toEqual([12, 16]);
    expect(b!.message!.fd && b!.message!.extended).toBe(true);
    expect(await fd.next({ timeoutMs: 50 })).toBeNull();
    await tx.close();
    await rx.close();
  });

  it("bounded queue with an overflow counter; for await ends when the bus closes", async () => {
    const { tx, rx } = await pair();
    const watch = rx.watch(0x500, { queueSize: 2 });
    await tx.sendBatch([1, 2, 3, 4, 5].map((b) => ({ id: 0x500, data: [b] })));
    // the watch thread has seen all five frames once delivered and overflow add up to five
    await expect.poll(() => watch.stats().delivered + watch.stats().overflow, { timeout: 5000 }).toBe(5);
    expect(watch.stats()).toEqual({ capacity: 2, queued: 2, delivered: 2, overflow: 3 });
    const seen: number[] = [];
    const loop = (async () => {
      for await (const e of watch) seen.push(e.message!.data[0]!);
    })();
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(2);
    await rx.close();
    await loop;
    expect(seen).toEqual([1, 2]);
    expect(watch.closed).toBe(true);
    expect(await watch.next({ timeoutMs: 10 })).toBeNull();
    await tx.close();
  });

  it("rejects bad options with typed errors", async () => {
    await using bus = await Bus.open({ channel: uniqueChannel() });
    expect(() => bus.watch(0x800)).toThrow(expect.objectContaining({ code: "ERR_ID_OUT_OF_RANGE" }));
    expect(() => bus.watch(0x100, { changeMask: new Uint8Array(9) })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("at most 8 bytes") }),
    );
    expect(() => bus.watch(0x100, { timeoutMs: 0 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(() => bus.watch(0x100, { changeMask: [256] })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(() => bus.watch(0x100, { queueSize: 0 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(() => bus.watch(-1)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});
