import { describe, expect, it } from "vitest";
import { Bus, CanError, UnsupportedError } from "../../src/index.js";
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

  it("listInterfaces shows vcan0 and vcan1 with their link state", () => {
    const list = Bus.listInterfaces();
    expect(list.map((i) => [i.name, i.up, i.mtu, i.fd])).toEqual([
      ["vcan0", true, 72, true],
      ["vcan1", true, 72, true],
    ]);
    expect(list[0]!.index).toBeGreaterThan(0);
    expect(list[0]!.operstate).toBe("unknown"); // vcan reports no carrier state
  });
});
