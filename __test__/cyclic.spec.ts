import { describe, expect, it } from "vitest";
import { Bus, formatFrame } from "../src/index.js";
import { pair, recvN, uniqueChannel } from "./helpers.js";

describe("sendPeriodic on the native scheduler", () => {
  it("sends a counted task round-robin, then stops", async () => {
    const { tx, rx } = await pair();
    const task = tx.sendPeriodic(
      [
        { id: 0x100, data: [1] },
        { id: 0x101, data: [2] },
        { id: 0x102, data: [3] },
      ],
      { periodMs: 10, count: 7 },
    );
    const got = await recvN(rx, 7);
    expect(got.map(formatFrame)).toEqual(["100#01", "101#02", "102#03", "100#01", "101#02", "102#03", "100#01"]);
    await new Promise((r) => setTimeout(r, 20));
    expect(await rx.recv({ timeoutMs: 10 })).toBeNull();
    expect(task.stats()).toMatchObject({ sent: 7, running: false, sendErrors: 0 });
    expect(task.period).toBe(10);
    expect(task.messages.map(formatFrame)).toEqual(["100#01", "101#02", "102#03"]);
    await tx.close();
    await rx.close();
  });

  it("multi-rate and duration limits", async () => {
    const { tx, rx } = await pair();
    tx.sendPeriodic({ id: 0x1 }, { periodMs: 1000, initialPeriodMs: 10, initialCount: 3, count: 3 });
    expect((await recvN(rx, 3)).map((m) => m.id)).toEqual([1, 1, 1]);
    const timed = tx.sendPeriodic({ id: 0x2 }, { periodMs: 10, durationMs: 45 });
    await new Promise((r) => setTimeout(r, 120));
    expect(timed.running).toBe(false);
    expect(timed.sent + timed.missed).toBe(5);
    expect((await recvN(rx, timed.sent)).every((m) => m.id === 2)).toBe(true);
    expect(await rx.recv({ timeoutMs: 0 })).toBeNull();
    await tx.close();
    await rx.close();
  });

  it("modifyData changes the next frame; stop and start restart the task", async () => {
    const { tx, rx } = await pair({ rxQueueSize: 100_000 });
    const task = tx.sendPeriodic({ id: 0x300, data: [0xaa] }, { periodMs: 1, autostart: false });
    expect(await rx.recv({ timeoutMs: 20 })).toBeNull();
    task.start();
    expect((await recvN(rx, 2)).map((m) => m.data[0])).toEqual([0xaa, 0xaa]);
    task.modifyData([{ id: 0x300, data: [0xbb] }]);
    let m = (await rx.recv({ timeoutMs: 1000 }))!;
    while (m.data[0] === 0xaa) m = (await rx.recv({ timeoutMs: 1000 }))!;
    expect(m.data[0]).toBe(0xbb);
    expect(() => task.modifyData([{ id: 1 }, { id: 2 }])).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    task.stop();
    await new Promise((r) => setTimeout(r, 10));
    while (await rx.recv({ timeoutMs: 0 })) {
      // drain what was sent before the stop
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(await rx.recv({ timeoutMs: 0 })).toBeNull();
    task.start();
    expect((await recvN(rx, 1))[0]!.data[0]).toBe(0xbb);
    await tx.close();
    await rx.close();
  });

  it("keeps sending while the JS event loop is blocked", async () => {
    const { tx, rx } = await pair();
    const task = tx.sendPeriodic({ id: 0x7 }, { periodMs: 5 });
    await recvN(rx, 1);
    const blockedFrom = BigInt(Date.now()) * 1_000_000n;
    const until = Date.now() + 100;
    while (Date.now() < until) {
      // busy: no timer, no I/O callback can run here
    }
    const blockedTo = BigInt(Date.now()) * 1_000_000n;
    task.stop();
    const during: bigint[] = [];
    for (let m = await rx.recv({ timeoutMs: 0 }); m; m = await rx.recv({ timeoutMs: 0 })) {
      if (m.timestampNs > blockedFrom && m.timestampNs < blockedTo) during.push(m.timestampNs);
    }
    expect(during.length).toBeGreaterThanOrEqual(10);
    await tx.close();
    await rx.close();
  });

  it("validates messages and timing, and stops with the bus", async () => {
    const bus = await Bus.open({ channel: uniqueChannel() });
    expect(() => bus.sendPeriodic({ id: 0x800 }, { periodMs: 1 })).toThrow(expect.objectContaining({ code: "ERR_ID_OUT_OF_RANGE" }));
    expect(() => bus.sendPeriodic({ id: 1, fd: true }, { periodMs: 1 })).toThrow(expect.objectContaining({ code: "ERR_FD_NOT_ENABLED" }));
    expect(() => bus.sendPeriodic({ id: 1 }, { periodMs: 0 })).toThrow(/periodMs must be a number of milliseconds > 0/);
    expect(() => bus.sendPeriodic({ id: 1 }, { periodMs: 1, count: 2, durationMs: 5 })).toThrow(/not both/);
    expect(() => bus.sendPeriodic([], { periodMs: 1 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(() => bus.sendPeriodic({ id: 1 }, { periodMs: 1, scheduler: "kernel" })).toThrow(
      expect.objectContaining({ code: "ERR_UNSUPPORTED" }),
    );
    expect(() => bus.sendPeriodic({ id: 1 }, { periodMs: 1, scheduler: "bcm" as "kernel" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining('"native" or "kernel"') }),
    );
    expect(bus.sendPeriodic({ id: 1 }, { periodMs: 1, autostart: false }).scheduler).toBe("native");
    const task = bus.sendPeriodic({ id: 1 }, { periodMs: 0.5 });
    await bus.close();
    expect(() => task.stats()).toThrow(expect.objectContaining({ code: "ERR_CLOSED" }));
  });
});
