import { describe, expect, it } from "vitest";
import { Bus } from "../../src/index.js";
import { hasAfCan, recvN } from "./can-utils.js";

// Error class bits (linux/can/error.h)
const CONTROLLER = 0x004;
const PROTOCOL = 0x008;
const BUS_OFF = 0x040;
const RESTARTED = 0x100;
const COUNTERS = 0x200;

describe.skipIf(!hasAfCan)("socketcan: error frames decoded, bus state followed", () => {
  it("decodes what a controller would report and follows the state", async () => {
    // vcan loops any frame back, error frames too: one bus plays the controller.
    await using controller = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    expect(bus.state).toBe("active");
    const next = bus.nextState({ timeoutMs: 5000 });
    await controller.send({ id: CONTROLLER | COUNTERS, error: true, data: [0, 0x08, 0, 0, 0, 0, 100, 3] });
    expect(await next).toBe("warning");
    await controller.send({ id: CONTROLLER | PROTOCOL, error: true, data: [0, 0x20, 0x84, 0x19, 0, 0, 0, 0] });
    await controller.send({ id: BUS_OFF, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] });
    await controller.send({ id: RESTARTED, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] });
    const got = await recvN(bus, 4);
    expect(got.every((m) => m.error)).toBe(true);
    expect(got[0]!.errorInfo).toMatchObject({ state: "warning", txErrorCount: 100, rxErrorCount: 3, busOff: false });
    expect(got[0]!.errorInfo!.controller).toMatchObject({ txWarning: true, rxWarning: false, txPassive: false });
    expect(got[1]!.errorInfo).toMatchObject({ state: "passive", protocol: { kinds: ["stuff", "tx"], location: "ack-slot" } });
    expect(got[2]!.errorInfo).toMatchObject({ state: "bus-off", busOff: true });
    expect(got[3]!.errorInfo).toMatchObject({ state: "active", restarted: true });
    expect(bus.state).toBe("active");
    expect(got[0]!.data.length).toBe(8);
  });

  it("errorMask 0 receives no error frames; a mask passes only its classes", async () => {
    await using controller = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await using none = await Bus.open({ interface: "socketcan", channel: "vcan0", errorMask: 0 });
    await using busOffOnly = await Bus.open({ interface: "socketcan", channel: "vcan0", errorMask: BUS_OFF });
    await controller.send({ id: CONTROLLER, error: true, data: [0, 0x10, 0, 0, 0, 0, 0, 0] });
    await controller.send({ id: BUS_OFF, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] });
    await controller.send({ id: 0x123, data: [1] });
    expect((await recvN(none, 1)).map((m) => m.id)).toEqual([0x123]);
    expect((await recvN(busOffOnly, 2)).map((m) => [m.id, m.error])).toEqual([
      [BUS_OFF, true],
      [0x123, false],
    ]);
    expect(busOffOnly.state).toBe("bus-off");
    expect(none.state).toBe("active");
  });

  it("stateChanges ends when the bus closes", async () => {
    const bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const seen: string[] = [];
    const loop = (async () => {
      for await (const s of bus.stateChanges()) seen.push(s);
    })();
    await new Promise((r) => setTimeout(r, 100));
    await bus.close();
    await loop;
    expect(seen).toEqual([]);
  });
});
