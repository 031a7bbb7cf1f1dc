import { describe, expect, it } from "vitest";
import { Bus, type CanError, formatFrame, type Message } from "../../src/index.js";
import { hasAfCan, listeningCandump, nothingWithin, recvN, until, withoutTime } from "./can-utils.js";

/** The timestamp of a candump -L line, in ms. */
function lineMs(line: string): number {
  return Number(/^\((\d+\.\d+)\)/.exec(line)![1]) * 1000;
}

/** Gaps between consecutive timestamps, in ms. */
function gapsMs(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

function ns(m: Message): number {
  return Number(m.timestampNs / 1000n) / 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasAfCan)("socketcan: cyclic sends on the kernel scheduler (BCM)", () => {
  it("sends exact frames round-robin, then stops at the count", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const dump = await listeningCandump("vcan0");
    await using listener = await Bus.open({ interface: "socketcan", channel: "vcan0" }); // after candump's marker frames
    const task = bus.sendPeriodic(
      [
        { id: 0x100, data: [1] },
        { id: 0x101, data: [2, 0xff] },
        { id: 0x12345678, extended: true, data: [] },
      ],
      { periodMs: 20, count: 7, scheduler: "kernel" },
    );
    expect(task.scheduler).toBe("kernel");
    await until(() => !task.running);
    expect((await dump.stop()).map(withoutTime)).toEqual([
      "vcan0 100#01",
      "vcan0 101#02FF",
      "vcan0 12345678#",
      "vcan0 100#01",
      "vcan0 101#02FF",
      "vcan0 12345678#",
      "vcan0 100#01",
    ]);
    expect((await recvN(listener, 7)).map(formatFrame)).toHaveLength(7);
    expect(await nothingWithin(listener, 200)).toBeNull();
    expect(task.stats()).toEqual({
      sent: 7,
      missed: 0,
      late: 0,
      latenessMs: 0,
      maxLatenessMs: 0,
      sendErrors: 0,
      lastError: null,
      running: false,
      lateModifier: 0,
      modifierErrors: 0,
      sentCounted: "frames",
    });
  });

  it("multi-rate: initialCount frames at initialPeriodMs, then periodMs, up to count", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const dump = await listeningCandump("vcan0");
    await using listener = await Bus.open({ interface: "socketcan", channel: "vcan0" }); // after candump's marker frames
    const task = bus.sendPeriodic(
      { id: 0x200, data: [0x20] },
      { periodMs: 150, initialPeriodMs: 20, initialCount: 3, count: 6, scheduler: "kernel" },
    );
    await until(() => !task.running);
    const lines = await dump.stop();
    expect(lines.map(withoutTime)).toEqual(Array(6).fill("vcan0 200#20"));
    const gaps = gapsMs(lines.map(lineMs));
    const initial = gaps.slice(0, 2);
    const steady = gaps.slice(2);
    // The kernel never sends early; the emulated guest may send late, so only lower bounds are tight.
    for (const g of initial) expect(g).toBeGreaterThan(18);
    for (const g of steady) expect(g).toBeGreaterThan(140);
    expect(Math.max(...initial)).toBeLessThan(Math.min(...steady));
    await recvN(listener, 6);
    // The count goes on after the switch to periodMs and ends exactly.
    expect(await nothingWithin(listener, 400)).toBeNull();
    expect(task.stats()).toMatchObject({ sent: 6, running: false });
  });

  it("modifyData changes the data in place: same round-robin position, no restart, no extra frame", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using listener = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const ids = [0x301, 0x302, 0x303];
    const task = bus.sendPeriodic(
      ids.map((id) => ({ id, data: [0] })),
      { periodMs: 30, scheduler: "kernel" },
    );
    const got = await recvN(listener, 4);
    task.modifyData(ids.map((id) => ({ id, data: [1] })));
    for (let n = 0; n < 4; ) {
      const m = (await recvN(listener, 1))[0]!;
      got.push(m);
      if (m.data[0] === 1) n++;
    }
    task.stop();
    await sleep(100);
    for (let m = await listener.recv({ timeoutMs: 0 }); m; m = await listener.recv({ timeoutMs: 0 })) got.push(m);
    // Ids keep their round-robin order across the change (a reset would restart at 0x301).
    expect(got.map((m) => m.id)).toEqual(got.map((_, i) => ids[i % 3]));
    // The data switches once, for good.
    const first = got.findIndex((m) => m.data[0] === 1);
    expect(got.slice(0, first).every((m) => m.data[0] === 0)).toBe(true);
    expect(got.slice(first).every((m) => m.data[0] === 1)).toBe(true);
    // No frame sent at once on the change (a restart announces one): every gap is at least a period.
    for (const g of gapsMs(got.map(ns))) expect(g).toBeGreaterThan(27);
    expect(task.stats()).toMatchObject({ sent: got.length, running: false });
  });

  it("stop deletes the job, start sends again from the first frame; sent adds up", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using listener = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const task = bus.sendPeriodic(
      [
        { id: 0x400, data: [0xa] },
        { id: 0x400, data: [0xb] },
      ],
      { periodMs: 20, scheduler: "kernel" },
    );
    const seen = await recvN(listener, 3);
    task.stop();
    expect(task.running).toBe(false);
    await sleep(60);
    for (let m = await listener.recv({ timeoutMs: 0 }); m; m = await listener.recv({ timeoutMs: 0 })) seen.push(m);
    expect(await nothingWithin(listener, 200)).toBeNull();
    expect(task.sent).toBe(seen.length);
    task.start();
    const again = await recvN(listener, 2);
    expect(again.map((m) => m.data[0])).toEqual([0xa, 0xb]);
    task.stop();
    await sleep(60);
    for (let m = await listener.recv({ timeoutMs: 0 }); m; m = await listener.recv({ timeoutMs: 0 })) again.push(m);
    expect(task.stats()).toMatchObject({ sent: seen.length + again.length, missed: 0, running: false });
  });

  it("CAN FD frames, flags and lengths as candump sees them", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0", fd: true });
    const dump = await listeningCandump("vcan0");
    const task = bus.sendPeriodic(
      [
        { id: 0x123, fd: true, bitrateSwitch: true, data: new Uint8Array(12).fill(0x11) },
        { id: 0x1abcdef, extended: true, fd: true, data: new Uint8Array(64).fill(0xff) },
      ],
      { periodMs: 10, count: 4, scheduler: "kernel" },
    );
    const fd1 = `vcan0 123##5${"11".repeat(12)}`;
    const fd2 = `vcan0 01ABCDEF##4${"FF".repeat(64)}`;
    await until(() => !task.running);
    expect((await dump.stop()).map(withoutTime)).toEqual([fd1, fd2, fd1, fd2]);
    expect(task.stats()).toMatchObject({ sent: 4, running: false });
    expect(() =>
      bus.sendPeriodic(
        [
          { id: 1, fd: true, data: [1] },
          { id: 2, data: [2] },
        ],
        { periodMs: 10, scheduler: "kernel" },
      ),
    ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("all as classic or all as FD") }));
  });

  it("two tasks on one CAN id run independently", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using listener = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const a = bus.sendPeriodic({ id: 0x555, data: [0xa] }, { periodMs: 20, count: 4, scheduler: "kernel" });
    const b = bus.sendPeriodic({ id: 0x555, data: [0xb] }, { periodMs: 30, count: 3, scheduler: "kernel" });
    const got = await recvN(listener, 7);
    expect(await nothingWithin(listener, 200)).toBeNull();
    expect(got.every((m) => m.id === 0x555)).toBe(true);
    expect(got.filter((m) => m.data[0] === 0xa)).toHaveLength(4);
    expect(got.filter((m) => m.data[0] === 0xb)).toHaveLength(3);
    expect([a.sent, b.sent]).toEqual([4, 3]);
    // Stopping one leaves the other running.
    const c = bus.sendPeriodic({ id: 0x556, data: [0xc] }, { periodMs: 20, scheduler: "kernel" });
    const d = bus.sendPeriodic({ id: 0x556, data: [0xd] }, { periodMs: 20, scheduler: "kernel" });
    await recvN(listener, 2);
    c.stop();
    await sleep(50);
    while (await listener.recv({ timeoutMs: 0 })) {
      // frames sent before the stop
    }
    const after = await recvN(listener, 3);
    expect(after.map((m) => m.data[0])).toEqual([0xd, 0xd, 0xd]);
    expect(d.running).toBe(true);
  });

  it("tasks stop with their bus; a bus on all interfaces sends to the messages' channel", async () => {
    const bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using listener = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    bus.sendPeriodic({ id: 0x600 }, { periodMs: 10, scheduler: "kernel" });
    await recvN(listener, 2);
    await bus.close();
    await sleep(50);
    while (await listener.recv({ timeoutMs: 0 })) {
      // frames sent before the close
    }
    expect(await nothingWithin(listener, 200)).toBeNull();

    await using all = await Bus.open({ interface: "socketcan", channel: "" });
    const dump = await listeningCandump("vcan1");
    const viaAll = all.sendPeriodic({ id: 0x601, data: [1], channel: "vcan1" }, { periodMs: 10, count: 2, scheduler: "kernel" });
    await until(() => !viaAll.running);
    expect((await dump.stop()).map(withoutTime)).toEqual(["vcan1 601#01", "vcan1 601#01"]);
    expect(() => all.sendPeriodic({ id: 0x602 }, { periodMs: 10, scheduler: "kernel" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("needs each message's channel") }),
    );
  });

  it("rejects what the kernel cannot run", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    expect(() => bus.sendPeriodic({ id: 1 }, { periodMs: 0.0004, scheduler: "kernel" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("whole microseconds") }),
    );
    const many = Array.from({ length: 257 }, (_, i) => ({ id: i }));
    expect(() => bus.sendPeriodic(many, { periodMs: 10, scheduler: "kernel" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("1 to 256 messages") }),
    );
    const task = bus.sendPeriodic({ id: 1 }, { periodMs: 10, autostart: false, scheduler: "kernel" });
    expect(() => task.modifyData([{ id: 1 }, { id: 2 }])).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(task.stats()).toEqual({
      sent: 0,
      missed: 0,
      late: 0,
      latenessMs: 0,
      maxLatenessMs: 0,
      sendErrors: 0,
      lastError: null,
      running: false,
      lateModifier: 0,
      modifierErrors: 0,
      sentCounted: "frames",
    });
  });

  it("onError reports the interface going down on both schedulers; no modifier on the kernel's", async () => {
    const { execFileSync } = await import("node:child_process");
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan1" });
    const errors: { native: CanError[]; kernel: CanError[] } = { native: [], kernel: [] };
    const nativeTask = bus.sendPeriodic({ id: 0x700 }, { periodMs: 20, scheduler: "native", onError: (e) => errors.native.push(e) });
    const kernelTask = bus.sendPeriodic({ id: 0x701 }, { periodMs: 20, scheduler: "kernel", onError: (e) => errors.kernel.push(e) });
    execFileSync("ip", ["link", "set", "vcan1", "down"]);
    try {
      await until(() => errors.native.length > 0 && errors.kernel.length > 0);
    } finally {
      execFileSync("ip", ["link", "set", "vcan1", "up"]);
    }
    expect(errors.native[0]).toMatchObject({ code: "ERR_OS", errno: "ENETDOWN" });
    expect(errors.native[0]!.message).toMatch(/sending on 'vcan1' failed with ENETDOWN/);
    expect(errors.kernel[0]).toMatchObject({ code: "ERR_OS", errno: "ENETDOWN" });
    expect(errors.kernel[0]!.message).toMatch(/cyclic sends by the broadcast manager on 'vcan1' failed with ENETDOWN/);
    expect(nativeTask.stats().sendErrors).toBeGreaterThanOrEqual(errors.native.length);
    expect(kernelTask.stats()).toMatchObject({ sendErrors: 1, running: true });
    expect(() => bus.sendPeriodic({ id: 1 }, { periodMs: 10, scheduler: "kernel", modifier: () => undefined })).toThrow(
      expect.objectContaining({ code: "ERR_UNSUPPORTED", message: expect.stringContaining("needs the native scheduler") }),
    );
  });
});

describe.skipIf(!hasAfCan)("socketcan: counted tasks on the native scheduler", () => {
  it("count: N sends exactly N frames, however late the emulated machine serves them", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const dump = await listeningCandump("vcan0");
    // 1 ms in the TCG guest: the scheduler comes back whole periods late often.
    const task = bus.sendPeriodic(
      [
        { id: 0x321, data: [1] },
        { id: 0x322, data: [2] },
      ],
      { periodMs: 1, count: 301 },
    );
    await until(() => !task.running, 30_000);
    const lines = (await dump.stop()).map(withoutTime);
    expect(lines).toHaveLength(301);
    expect(lines.filter((l) => l === "vcan0 321#01")).toHaveLength(151);
    const stats = task.stats();
    expect(stats).toMatchObject({ sent: 301, missed: 0, sendErrors: 0, running: false });
    expect(stats.maxLatenessMs).toBeLessThanOrEqual(stats.latenessMs);
    expect(stats.late === 0).toBe(stats.latenessMs === 0);
  });
});
