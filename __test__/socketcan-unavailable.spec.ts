import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Bus, UnsupportedError } from "../src/index.js";

// /proc/net/can appears when the kernel has SocketCAN loaded; without it
// opening a socketcan bus must say exactly that.
const noSocketCan = process.platform !== "linux" || !existsSync("/proc/net/can");

describe.skipIf(!noSocketCan)("socketcan where the kernel has none", () => {
  it("opening fails with ERR_UNSUPPORTED naming the reason", async () => {
    const error = await Bus.open({ interface: "socketcan", channel: "vcan0" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error).toMatchObject({ code: "ERR_UNSUPPORTED" });
    const expected = process.platform === "linux" ? /this kernel has no SocketCAN: socket\(AF_CAN, SOCK_RAW, CAN_RAW\) failed with EAFNOSUPPORT/ : /only on Linux/;
    expect((error as Error).message).toMatch(expected);
  });

  it("listInterfaces is empty", () => {
    expect(Bus.listInterfaces()).toEqual([]);
  });
});

describe("error frames decode without a kernel", () => {
  it("errorInfo on a message built by hand", async () => {
    const { Message } = await import("../src/index.js");
    const m = new Message({ id: 0x040 | 0x004 | 0x200, error: true, data: [0, 0x30, 0, 0, 0, 0, 130, 140] });
    expect(m.errorInfo).toMatchObject({
      state: "bus-off",
      busOff: true,
      txErrorCount: 130,
      rxErrorCount: 140,
      controller: { rxPassive: true, txPassive: true, rxWarning: false },
      protocol: undefined,
    });
    expect(new Message({ id: 0x40, data: [] }).errorInfo).toBeUndefined();
  });
});
