import { describe, expect, it } from "vitest";
import { Bus, CanError, CanOsError, UnsupportedError } from "../../src/index.js";
import { hasAfCan } from "./can-utils.js";

describe.skipIf(!hasAfCan)("socketcan: typed errors at open", () => {
  it("a missing interface", async () => {
    const error = await Bus.open({ interface: "socketcan", channel: "nosuch0" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error).toMatchObject({ code: "ERR_UNKNOWN_INTERFACE" });
    expect((error as Error).message).toMatch(/no network interface named 'nosuch0'; CAN interfaces here: vcan0, vcan1/);
  });

  it("a network interface that is not CAN", async () => {
    const error = await Bus.open({ interface: "socketcan", channel: "lo" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CanError);
    expect(error).toMatchObject({ code: "ERR_NOT_CAN_INTERFACE" });
    expect((error as Error).message).toMatch(/'lo' is not a CAN interface \(link type 772, CAN is 280\)/);
  });

  it("a name that cannot be an interface", async () => {
    await expect(Bus.open({ interface: "socketcan", channel: "a/b" })).rejects.toMatchObject({ code: "ERR_UNKNOWN_INTERFACE" });
  });

  it("closing twice, sending after close", async () => {
    const bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await bus.close();
    await bus.close();
    await expect(bus.send({ id: 1 })).rejects.toMatchObject({ code: "ERR_CLOSED" });
    expect(await bus.recv({ timeoutMs: 10 }).catch((e: CanError) => e.code)).toBe("ERR_CLOSED");
  });

  it("listInterfaces shows vcan0, vcan1 and vcan2 with their link state", () => {
    const list = Bus.listInterfaces();
    expect(list.map((i) => [i.name, i.up, i.mtu, i.fd])).toEqual([
      ["vcan0", true, 72, true],
      ["vcan1", true, 72, true],
      ["vcan2", true, 72, true],
    ]);
    expect(list[0]!.index).toBeGreaterThan(0);
    expect(list[0]!.operstate).toBe("unknown"); // vcan reports no carrier state
  });
});

describe.skipIf(!hasAfCan)("socketcan: an interface that goes down", () => {
  it("sends fail with ERR_OS naming ENETDOWN; the bus works again once it is up", async () => {
    const { execFileSync } = await import("node:child_process");
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan1", receiveOwnMessages: true });
    execFileSync("ip", ["link", "set", "vcan1", "down"]);
    try {
      expect(Bus.listInterfaces().find((i) => i.name === "vcan1")).toMatchObject({ up: false, operstate: "down" });
      const error = await bus.send({ id: 0x42 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CanOsError);
      expect(error).toMatchObject({ code: "ERR_OS", errno: "ENETDOWN" });
      expect((error as Error).message).toMatch(/sending on 'vcan1' failed with ENETDOWN/);
      expect(bus.stats().txErrors).toBe(1);
    } finally {
      execFileSync("ip", ["link", "set", "vcan1", "up"]);
    }
    await bus.send({ id: 0x43 });
    const m = await bus.recv({ timeoutMs: 5000 });
    expect(m?.id).toBe(0x43);
  });
});
