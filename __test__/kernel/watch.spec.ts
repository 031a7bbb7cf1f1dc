import { describe, expect, it } from "vitest";
import { Bus, type WatchEvent } from "../../src/index.js";
import { cansend, hasAfCan } from "./can-utils.js";

const summary = (e: WatchEvent | null) =>
  e ? { type: e.type, id: e.message?.id, data: e.message ? [...e.message.data] : undefined } : null;

describe.skipIf(!hasAfCan)("socketcan: bus.watch on the kernel's broadcast manager (RX_SETUP)", () => {
  it("changes under the mask, driven by cansend; nothing outside the mask or for other ids", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using watch = bus.watch(0x123, { changeMask: [0x0f, 0xff] });
    expect(watch.backend).toBe("kernel");
    await cansend("vcan0", "123#0100", "123#1100EE", "124#0200", "00000123#0300", "123#1180");
    const a = await watch.next({ timeoutMs: 2000 });
    const b = await watch.next({ timeoutMs: 2000 });
    expect([summary(a), summary(b)]).toEqual([
      { type: "changed", id: 0x123, data: [0x01, 0x00] },
      { type: "changed", id: 0x123, data: [0x11, 0x80] },
    ]);
    expect(b!.message!.channel).toBe("vcan0");
    expect(b!.timestampNs).toBe(b!.message!.timestampNs);
    expect(await watch.next({ timeoutMs: 200 })).toBeNull();
  });

  it("one timeout event after timeoutMs of silence, then the same data is announced when it resumes", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    // The timeout counts from the start too: send at once (spawning cansend may take longer than it).
    await using watch = bus.watch(0x200, { timeoutMs: 150, changeMask: [0xff] });
    await bus.send({ id: 0x200, data: [5] });
    const frame = await watch.next({ timeoutMs: 2000 });
    expect(summary(frame)).toEqual({ type: "changed", id: 0x200, data: [5] });
    const timeout = await watch.next({ timeoutMs: 2000 });
    expect(summary(timeout)).toEqual({ type: "timeout", id: undefined, data: undefined });
    expect(Number(timeout!.timestampNs - frame!.timestampNs) / 1e6).toBeGreaterThan(140);
    expect(await watch.next({ timeoutMs: 300 })).toBeNull();
    await cansend("vcan0", "200#05");
    expect(summary(await watch.next({ timeoutMs: 2000 }))).toEqual({ type: "changed", id: 0x200, data: [5] });
  });

  it("a kernel cyclic task that stops: timeout after its last frame", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const task = bus.sendPeriodic({ id: 0x210, data: [1] }, { periodMs: 20, count: 10, scheduler: "kernel", autostart: false });
    await using watch = bus.watch(0x210, { timeoutMs: 200, changeMask: [0xff] });
    task.start(); // right after the watch, whose timeout counts from its start
    expect(summary(await watch.next({ timeoutMs: 2000 }))).toEqual({ type: "changed", id: 0x210, data: [1] });
    const timeout = await watch.next({ timeoutMs: 3000 });
    expect(timeout?.type).toBe("timeout");
    expect(task.stats()).toMatchObject({ sent: 10, running: false });
    expect(await watch.next({ timeoutMs: 300 })).toBeNull();
  });

  it("without a mask every frame is received; throttleMs releases the latest; two watches of one id", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using sender = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using plain = bus.watch(0x300);
    await using throttled = bus.watch(0x300, { throttleMs: 200 });
    await sender.sendBatch([1, 2, 3, 4].map((b) => ({ id: 0x300, data: [b] })));
    const got = [];
    for (let i = 0; i < 4; i++) got.push(summary(await plain.next({ timeoutMs: 2000 })));
    expect(got).toEqual([1, 2, 3, 4].map((b) => ({ type: "received", id: 0x300, data: [b] })));
    const first = summary(await throttled.next({ timeoutMs: 2000 }));
    const released = summary(await throttled.next({ timeoutMs: 2000 }));
    expect([first, released]).toEqual([
      { type: "received", id: 0x300, data: [1] },
      { type: "received", id: 0x300, data: [4] },
    ]);
    expect(await throttled.next({ timeoutMs: 300 })).toBeNull();
  });

  it("FD frames of an extended id with checkDlc; watches close with their bus", async () => {
    const bus = await Bus.open({ interface: "socketcan", channel: "vcan0", fd: true });
    const watch = bus.watch(0x1abcdef, { extended: true, fd: true, changeMask: [0xff], checkDlc: true });
    await cansend("vcan0", `01ABCDEF##1${"00".repeat(12)}`, "01ABCDEF#00", `01ABCDEF##1${"00".repeat(16)}`);
    const a = await watch.next({ timeoutMs: 2000 });
    const b = await watch.next({ timeoutMs: 2000 });
    expect([a!.message!.data.length, b!.message!.data.length]).toEqual([12, 16]);
    expect([b!.message!.fd, b!.message!.extended, b!.message!.bitrateSwitch]).toEqual([true, true, true]);
    expect(await watch.next({ timeoutMs: 200 })).toBeNull();
    await bus.close();
    expect(watch.closed).toBe(true);
    expect(await watch.next({ timeoutMs: 10 })).toBeNull();
  });
});
