import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { candump, cansend, hasAfCan, rawSockets, socketBound } from "./can-utils.js";

describe.skipIf(!hasAfCan)("socketcan: canwire dump prints what candump prints", () => {
  it("dump -i socketcan -c vcan0 -n 5 (classic and FD lines diff equal)", async () => {
    const reference = await candump("vcan0", 5);
    const before = rawSockets();
    const child = spawn("node", ["dist/cli/main.js", "dump", "-i", "socketcan", "-c", "vcan0", "-n", "5"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.on("close", r));
    await socketBound(before);
    await cansend("vcan0", "123#DEADBEEF", "1F334455#R", "7FF#0102030405060708", "321##1AABB", `12345678##3${"11".repeat(12)}`);
    const expected = await reference.lines();
    expect(await exited).toBe(0);
    // same kernel timestamps, both cut to microseconds: identical lines
    expect(out.split("\n").filter(Boolean)).toEqual(expected);
    expect(expected.map((l) => l.replace(/^\(\d+\.\d{6}\) /, ""))).toEqual([
      "vcan0 123#DEADBEEF",
      "vcan0 1F334455#R",
      "vcan0 7FF#0102030405060708",
      "vcan0 321##5AABB",
      `vcan0 12345678##7${"11".repeat(12)}`,
    ]);
  }, 60_000);
});

describe.skipIf(!hasAfCan)("socketcan: canwire send and gen reach candump", () => {
  it("send -i socketcan -c vcan0 FRAMES", async () => {
    const dump = await candump("vcan0", 4);
    const { execFile } = await import("node:child_process");
    await new Promise<void>((resolve, reject) =>
      execFile(
        "node",
        ["dist/cli/main.js", "send", "-i", "socketcan", "-c", "vcan0", "123#DEADBEEF", "1F334455#11", "123#R3", "321##1AABB"],
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    expect((await dump.lines()).map((l) => l.replace(/^\(\d+\.\d{6}\) /, ""))).toEqual([
      "vcan0 123#DEADBEEF",
      "vcan0 1F334455#11",
      "vcan0 123#R3",
      "vcan0 321##5AABB",
    ]);
  });

  it("gen -i socketcan -c vcan0 -n 50 -g 0", async () => {
    const dump = await candump("vcan0", 50);
    const { execFile } = await import("node:child_process");
    await new Promise<void>((resolve, reject) =>
      execFile("node", ["dist/cli/main.js", "gen", "-i", "socketcan", "-c", "vcan0", "-n", "50", "-g", "0"], (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    const lines = await dump.lines();
    expect(lines).toHaveLength(50);
    for (const line of lines) expect(line).toMatch(/^\(\d{10}\.\d{6}\) vcan0 [0-9A-F]{3}#([0-9A-F]{2})*$/);
  });
});

describe.skipIf(!hasAfCan)("socketcan: canwire dump on all interfaces", () => {
  it("dump -i socketcan -n 2 names each frame's interface", async () => {
    const before = rawSockets();
    const child = spawn("node", ["dist/cli/main.js", "dump", "-i", "socketcan", "-n", "2"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.on("close", r));
    await socketBound(before);
    await cansend("vcan1", "111#11");
    await cansend("vcan0", "222#22");
    expect(await exited).toBe(0);
    expect(
      out
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(/^\(\d+\.\d{6}\) /, "")),
    ).toEqual(["vcan1 111#11", "vcan0 222#22"]);
  }, 60_000);
});
