import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { candump, cansend, hasAfCan, settle } from "./can-utils.js";

describe.skipIf(!hasAfCan)("socketcan: canwire dump prints what candump prints", () => {
  it("dump -i socketcan -c vcan0 -n 3", async () => {
    const child = spawn("node", ["dist/cli/main.js", "dump", "-i", "socketcan", "-c", "vcan0", "-n", "3"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.on("close", r));
    const reference = await candump("vcan0", 3);
    await settle(2000); // node start-up in the slow guest
    await cansend("vcan0", "123#DEADBEEF", "1F334455#R", "7FF#0102030405060708");
    const expected = await reference.lines();
    expect(await exited).toBe(0);
    // same kernel timestamps, both cut to microseconds: identical lines
    expect(out.split("\n").filter(Boolean)).toEqual(expected);
    expect(expected.map((l) => l.replace(/^\(\d+\.\d{6}\) /, ""))).toEqual([
      "vcan0 123#DEADBEEF",
      "vcan0 1F334455#R",
      "vcan0 7FF#0102030405060708",
    ]);
  });
});
