import { describe, expect, it } from "vitest";
import { Bus } from "../../src/index.js";
import { candump, hasAfCan, recvN, settle, withoutTime } from "./can-utils.js";

describe.skipIf(!hasAfCan)("socketcan: frames we send, as candump sees them", () => {
  it("classic, extended, remote", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const dump = await candump("vcan0", 5);
    await bus.send({ id: 0x123, data: [1, 2, 3] });
    await bus.sendBatch([
      { id: 0x12345678, extended: true, data: [] },
      { id: 0x7ff, remote: true, dlc: 3 },
      { id: 0x1, data: [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0xff] },
      { id: 0x2, extended: true, remote: true, dlc: 0 },
    ]);
    expect((await dump.lines()).map(withoutTime)).toEqual([
      "vcan0 123#010203",
      "vcan0 12345678#",
      "vcan0 7FF#R3",
      "vcan0 001#DEADBEEF000000FF",
      "vcan0 00000002#R",
    ]);
    expect(bus.stats().txFrames).toBe(5);
  });

  it("FD frames with ## flags", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0", fd: true });
    const dump = await candump("vcan0", 3);
    await bus.sendBatch([
      { id: 0x123, fd: true, data: [0xaa] },
      { id: 0x124, fd: true, bitrateSwitch: true, data: new Uint8Array(12).fill(0x11) },
      { id: 0x1abcdef, extended: true, fd: true, bitrateSwitch: true, errorStateIndicator: true, data: new Uint8Array(64).fill(0xff) },
    ]);
    // candump prints the kernel's flags byte: FDF 4 | BRS 1 | ESI 2
    expect((await dump.lines()).map(withoutTime)).toEqual([
      "vcan0 123##4AA",
      `vcan0 124##5${"11".repeat(12)}`,
      `vcan0 01ABCDEF##7${"FF".repeat(64)}`,
    ]);
  });

  it("receiveOwnMessages and localLoopback", async () => {
    await using own = await Bus.open({ interface: "socketcan", channel: "vcan0", receiveOwnMessages: true });
    await using other = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await own.send({ id: 0x10, data: [1] });
    const [echo] = await recvN(own, 1);
    expect([echo!.id, echo!.isRx]).toEqual([0x10, false]);
    const [seen] = await recvN(other, 1);
    expect(seen!.id).toBe(0x10);
    await other.send({ id: 0x11 });
    expect(await other.recv({ timeoutMs: 200 })).toBeNull(); // no own messages by default
    expect((await recvN(own, 1))[0]!.id).toBe(0x11);

    await using quiet = await Bus.open({ interface: "socketcan", channel: "vcan0", localLoopback: false });
    const dump = await candump("vcan0", 1);
    await quiet.send({ id: 0x12 });
    await settle(300);
    await own.send({ id: 0x13 });
    expect((await dump.lines()).map(withoutTime)).toEqual(["vcan0 013#"]);
    expect((await recvN(other, 1))[0]!.id).toBe(0x13);
  });

  it("all interfaces: channel names in, channel-addressed sends out", async () => {
    await using all = await Bus.open({ interface: "socketcan", channel: "" });
    const dump1 = await candump("vcan1", 1);
    await all.send({ id: 0x201, data: [1], channel: "vcan1" });
    expect((await dump1.lines()).map(withoutTime)).toEqual(["vcan1 201#01"]);
    await using a = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using b = await Bus.open({ interface: "socketcan", channel: "vcan1" });
    await a.send({ id: 0x300 });
    await b.send({ id: 0x301 });
    const got = await recvN(all, 2);
    expect(got.map((m) => [m.id, m.channel])).toEqual([
      [0x300, "vcan0"],
      [0x301, "vcan1"],
    ]);
    await expect(all.send({ id: 1 })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(all.send({ id: 1, channel: "nosuch0" })).rejects.toMatchObject({ code: "ERR_UNKNOWN_INTERFACE" });
  });
});
