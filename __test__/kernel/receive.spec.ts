import { describe, expect, it } from "vitest";
import { Bus } from "../../src/index.js";
import { cansend, hasAfCan, recvN } from "./can-utils.js";

describe.skipIf(!hasAfCan)("socketcan: frames from cansend arrive exactly", () => {
  it("classic, extended and remote frames", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const before = BigInt(Date.now()) * 1_000_000n;
    await cansend("vcan0", "123#DEADBEEF", "1F334455#0102", "7FF#", "321#R", "00000456#R5", "1AB#1122334455667788");
    const after = BigInt(Date.now()) * 1_000_000n;
    const got = await recvN(bus, 6);
    const plain = got.map((m) => ({
      id: m.id,
      extended: m.extended,
      remote: m.remote,
      fd: m.fd,
      dlc: m.dlc,
      data: Buffer.from(m.data).toString("hex"),
      channel: m.channel,
    }));
    expect(plain).toEqual([
      { id: 0x123, extended: false, remote: false, fd: false, dlc: 4, data: "deadbeef", channel: "vcan0" },
      { id: 0x1f334455, extended: true, remote: false, fd: false, dlc: 2, data: "0102", channel: "vcan0" },
      { id: 0x7ff, extended: false, remote: false, fd: false, dlc: 0, data: "", channel: "vcan0" },
      { id: 0x321, extended: false, remote: true, fd: false, dlc: 0, data: "", channel: "vcan0" },
      { id: 0x456, extended: true, remote: true, fd: false, dlc: 5, data: "", channel: "vcan0" },
      { id: 0x1ab, extended: false, remote: false, fd: false, dlc: 8, data: "1122334455667788", channel: "vcan0" },
    ]);
    for (const m of got) {
      // kernel receive time, nanosecond field, between the two wall-clock reads
      expect(m.timestampNs).toBeGreaterThanOrEqual(before - 1_000_000n);
      expect(m.timestampNs).toBeLessThanOrEqual(after + 1_000_000n);
      // cansend runs on this host: the kernel flags its frames MSG_DONTROUTE
      expect(m.isRx).toBe(false);
    }
    expect(new Set(got.map((m) => m.timestampNs % 1000n)).size).toBeGreaterThan(1); // not just µs
  });

  it("FD frames carry BRS and ESI; a 72-byte read is FD", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0", fd: true });
    const hex64 = Buffer.alloc(64, 0xa5).toString("hex");
    await cansend("vcan0", "123##0AA", "124##1BB", "125##2CC", `12345678##3${hex64}`, "126##0112233445566778899AABBCC");
    const got = await recvN(bus, 5);
    expect(got.map((m) => [m.id, m.extended, m.fd, m.bitrateSwitch, m.errorStateIndicator, m.dlc, m.dlcCode])).toEqual([
      [0x123, false, true, false, false, 1, 1],
      [0x124, false, true, true, false, 1, 1],
      [0x125, false, true, false, true, 1, 1],
      [0x12345678, true, true, true, true, 64, 15],
      [0x126, false, true, false, false, 12, 9],
    ]);
    expect(Buffer.from(got[3]!.data).toString("hex")).toBe(hex64);
    expect(Buffer.from(got[4]!.data).toString("hex")).toBe("112233445566778899aabbcc");
  });

  it("a classic bus does not get FD frames", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await cansend("vcan0", "123##1AA", "124#BB");
    const [m] = await recvN(bus, 1);
    expect(m!.id).toBe(0x124);
    expect(await bus.recv({ timeoutMs: 200 })).toBeNull();
  });

  it("hardwareTimestamps falls back to the kernel's time where the driver has none (vcan)", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0", hardwareTimestamps: true });
    const before = BigInt(Date.now()) * 1_000_000n;
    await cansend("vcan0", "123#01");
    const after = BigInt(Date.now()) * 1_000_000n;
    const [m] = await recvN(bus, 1);
    expect(m!.timestampNs).toBeGreaterThanOrEqual(before - 1_000_000n);
    expect(m!.timestampNs).toBeLessThanOrEqual(after + 1_000_000n);
  });
});
