import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Bus, IsoTp, UnsupportedError } from "../src/index.js";
import { runCli } from "./helpers.js";

// /proc/net/can appears when the kernel has SocketCAN loaded; without it
// opening a socketcan bus must say exactly that.
const noSocketCan = process.platform !== "linux" || !existsSync("/proc/net/can");

describe.skipIf(!noSocketCan)("socketcan where the kernel has none", () => {
  it("opening fails with ERR_UNSUPPORTED naming the reason", async () => {
    const error = await Bus.open({ interface: "socketcan", channel: "vcan0" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error).toMatchObject({ code: "ERR_UNSUPPORTED" });
    const expected =
      process.platform === "linux"
        ? /this kernel has no SocketCAN: socket\(AF_CAN, SOCK_RAW, CAN_RAW\) failed with EAFNOSUPPORT/
        : /only on Linux/;
    expect((error as Error).message).toMatch(expected);
  });

  it("the kernel ISO-TP stack fails with ERR_UNSUPPORTED naming the reason, from the API and the CLI", async () => {
    const error = await IsoTp.open({ address: { txid: 1, rxid: 2 }, stack: "kernel", channel: "vcan0" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedError);
    const expected =
      process.platform === "linux"
        ? /this kernel has no SocketCAN: socket\(AF_CAN, SOCK_DGRAM, CAN_ISOTP\) failed with EAFNOSUPPORT/
        : /only on Linux/;
    expect((error as Error).message).toMatch(expected);
    const cli = await runCli(["isotp", "send", "--stack", "kernel", "-c", "vcan0", "--txid", "7E0", "--rxid", "7E8", "01"]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/ERR_UNSUPPORTED/);
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
