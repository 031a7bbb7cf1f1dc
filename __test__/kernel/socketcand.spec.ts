/**
 * canwire serve --socketcand on a kernel bus: can-utils on one side of vcan0,
 * socketcand clients (canwire's, and Debian's python-can 4.1) on the other.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus } from "../../src/index.js";
import { candump, cansend, hasAfCan } from "./can-utils.js";

let server: ChildProcess | undefined;
let port = 0;

describe.skipIf(!hasAfCan)("socketcand: canwire serve --socketcand -i socketcan -c vcan0", () => {
  beforeAll(async () => {
    const child = spawn(
      "node",
      ["dist/cli/main.js", "serve", "--socketcand", "-i", "socketcan", "-c", "vcan0", "--listen", "127.0.0.1:0"],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    server = child;
    let stderr = "";
    port = await new Promise<number>((resolve, reject) => {
      child.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
        const match = /serving vcan0 on 127\.0\.0\.1:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`serve --socketcand exited with ${code}: ${stderr}`)));
    });
  }, 30_000);
  afterAll(() => {
    server?.kill("SIGINT");
  });

  it("cansend on vcan0 reaches a socketcand client, ids and data exact", async () => {
    await using bus = await Bus.open({ interface: "socketcand", channel: "vcan0", port });
    await new Promise((r) => setTimeout(r, 50));
    await cansend("vcan0", "123#DEADBEEF", "1F334455#0102", "7FF#");
    const got = [];
    while (got.length < 3) {
      const m = await bus.recv({ timeoutMs: 5000 });
      if (!m) break;
      got.push([m.id, m.extended, Buffer.from(m.data).toString("hex")]);
    }
    expect(got).toEqual([
      [0x123, false, "deadbeef"],
      [0x1f334455, true, "0102"],
      [0x7ff, false, ""],
    ]);
  }, 30_000);

  it("a socketcand client's sends reach candump on vcan0", async () => {
    await using bus = await Bus.open({ interface: "socketcand", channel: "vcan0", port });
    const dump = await candump("vcan0", 2);
    await bus.send({ id: 0x321, data: [0xaa, 0xbb] });
    await bus.send({ id: 0x1abcdef, extended: true, data: [] });
    expect((await dump.lines()).map((l) => l.replace(/^\(\d+\.\d{6}\) /, ""))).toEqual(["vcan0 321#AABB", "vcan0 01ABCDEF#"]);
  }, 90_000); // python starts slowly in the emulated guest

  it.skipIf(!existsSync("/usr/bin/python3"))(
    "Debian's python-can 4.1 receives a cansend frame through the server",
    async () => {
      const script = [
        "import can",
        `bus = can.Bus(interface='socketcand', channel='vcan0', host='127.0.0.1', port=${port})`,
        "print('ready', flush=True)",
        "m = bus.recv(30)",
        "print(hex(m.arbitration_id), m.data.hex(), flush=True)",
        "bus.shutdown()",
      ].join("\n");
      const child = spawn("/usr/bin/python3", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      const ready = new Promise<void>((resolve) =>
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("ready")) resolve();
        }),
      );
      const exited = new Promise<number | null>((r) => child.on("close", r));
      await ready;
      await new Promise((r) => setTimeout(r, 100));
      await new Promise<void>((resolve, reject) => execFile("cansend", ["vcan0", "456#0011"], (e) => (e ? reject(e) : resolve())));
      expect(await exited).toBe(0);
      expect(out.trim().split("\n").at(-1)).toBe("0x456 0011");
    },
    90_000, // python starts slowly in the emulated guest
  );
});
