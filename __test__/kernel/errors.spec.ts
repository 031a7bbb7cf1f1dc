import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
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
    // vcan has no controller: nothing from CAN netlink
    for (const field of ["bitrate", "samplePoint", "dataBitrate", "fdMode", "controllerState", "restartMs"] as const) {
      expect(list[0]![field]).toBeUndefined();
    }
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

describe.skipIf(!hasAfCan)("socketcan: a real CAN controller (slcan on a pty)", () => {
  // slcan is a can-dev driver, so CAN netlink reports its settings and state;
  // it stays down (bringing it up needs a serial adapter answering on the tty)
  it("listInterfaces shows its bit rate, restart delay, FD mode and state; a bus starts in that state", async () => {
    const run = promisify(execFile);
    const child = spawn("/usr/bin/python3", [fileURLToPath(new URL("./slcan.py", import.meta.url))], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    try {
      const name = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding("utf8").once("data", (d: string) => resolve(d.trim()));
        child.once("error", reject);
        child.once("close", (status) => reject(new Error(`slcan.py exited with ${status}`)));
      });
      expect(name).toMatch(/^(can|slcan)\d+$/);
      await run("ip", ["link", "set", name, "type", "can", "bitrate", "500000"]);
      const info = Bus.listInterfaces().find((i) => i.name === name);
      console.log(JSON.stringify(info));
      // a controller that is down is "stopped", which canwire reports as "unknown"
      expect(info).toMatchObject({
        up: false,
        mtu: 16,
        fd: false,
        bitrate: 500000,
        restartMs: 0,
        fdMode: false,
        controllerState: "unknown",
      });
      expect(info!.dataBitrate).toBeUndefined();
      expect(info!.samplePoint).toBeUndefined(); // slcan's fixed bit rates name no sample point
      await using bus = await Bus.open({ interface: "socketcan", channel: name });
      expect(bus.state).toBe("unknown"); // vcan, with no controller, starts "active"
    } finally {
      child.stdin.end();
      await new Promise((r) => child.once("close", r));
    }
  });
});
