import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Bus, formatFrame, Player } from "../src/index.js";
import { armedWaits } from "../src/waker.js";
import { codeAndMessageOf, recvN, uniqueChannel } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "canwire-play-"));

function logFile(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => `${l}\n`).join(""));
  return path;
}

describe("Player", () => {
  it("replays a file's frames in order with the file's gaps", async () => {
    const path = logFile("gaps.log", [
      "(100.000000) can0 100#01",
      "(100.030000) can0 101#02",
      "(100.030000) can0 102#03",
      "(100.080000) can0 103##1AABB",
    ]);
    const channel = uniqueChannel("play");
    await using bus = await Bus.open({ channel, fd: true });
    await using rx = await Bus.open({ channel, fd: true });
    const started = process.hrtime.bigint();
    const stats = await Player.start(bus, path).finished;
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(stats).toEqual({ sent: 4, sendErrors: 0, passes: 1 });
    const got = await recvN(rx, 4);
    expect(got.map(formatFrame)).toEqual(["100#01", "101#02", "102#03", "103##1AABB"]);
    const gapsMs = got.slice(1).map((m, i) => Number(m.timestampNs - got[i]!.timestampNs) / 1e6);
    expect(gapsMs[0]).toBeGreaterThan(25);
    expect(gapsMs[2]).toBeGreaterThan(45);
    expect(elapsedMs).toBeGreaterThanOrEqual(80);
  });

  it("a queue of one frame waits for room through the waker and keeps every frame in order", async () => {
    const lines = Array.from(
      { length: 50 },
      (_, i) => `(1.${String(i).padStart(6, "0")}) can0 ${(0x100 + i).toString(16)}#${i.toString(16).padStart(2, "0")}`,
    );
    const path = logFile("room.log", lines);
    const channel = uniqueChannel("play");
    await using bus = await Bus.open({ channel });
    await using rx = await Bus.open({ channel });
    const stats = await Player.start(bus, path, { queueSize: 1, gapMs: 0.05 }).finished;
    expect(stats).toEqual({ sent: 50, sendErrors: 0, passes: 1 });
    const got = await recvN(rx, 50);
    expect(got.map(formatFrame)).toEqual(lines.map((l) => l.split(" ")[2]?.toUpperCase()));
    expect(armedWaits()).toBe(0);
  });

  it("cuts long pauses to skipMs, loops, and ignores timestamps on request", async () => {
    const path = logFile("pause.log", ["(1.000000) can0 001#01", "(1000.000000) can0 002#02"]);
    const channel = uniqueChannel("play");
    await using bus = await Bus.open({ channel });
    await using rx = await Bus.open({ channel });
    const t0 = Date.now();
    expect(await Player.start(bus, path, { skipMs: 20, loop: 3 }).finished).toEqual({ sent: 6, sendErrors: 0, passes: 3 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await recvN(rx, 6)).map((m) => m.id)).toEqual([1, 2, 1, 2, 1, 2]);
    expect(await Player.start(bus, path, { ignoreTimestamps: true, gapMs: 1 }).finished).toMatchObject({ sent: 2 });
  });

  it("counts frames the bus refuses and stops on request", async () => {
    const fdPath = logFile("fd.log", ["(1.0) can0 100##0112233445566778899AABBCC", "(1.0) can0 101#01"]);
    const channel = uniqueChannel("play");
    await using classic = await Bus.open({ channel });
    expect(await Player.start(classic, fdPath).finished).toEqual({ sent: 1, sendErrors: 1, passes: 1 });
    const slow = logFile(
      "slow.log",
      Array.from({ length: 50 }, (_, i) => `(${i}.000000) can0 100#00`),
    );
    const player = Player.start(classic, slow, { skipMs: 100 });
    await new Promise((r) => setTimeout(r, 150));
    const stats = await player.stop();
    expect(stats.sent).toBeGreaterThan(0);
    expect(stats.sent).toBeLessThan(50);
    expect(() => Player.start(classic, join(dir, "missing.blf"))).toThrow(expect.objectContaining({ code: "ERR_OS" }));
    expect(() => Player.start(classic, slow, { loop: 0 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});

describe("Player.start arguments", () => {
  it("a wrong type is ERR_INVALID_ARGUMENT naming the argument or option", async () => {
    const path = logFile("types.log", ["(100.000000) can0 100#01"]);
    await using bus = await Bus.open({ channel: uniqueChannel("play") });
    const cases: Array<[() => unknown, string]> = [
      [() => Player.start(bus, 5 as unknown as string), "path must be a string, got number"],
      [() => Player.start(null as unknown as Bus, path), "bus must be a Bus (from Bus.open), got null"],
      [() => Player.start(bus, path, 1 as unknown as object), "options must be an object, got number"],
      [() => Player.start(bus, path, { gapMs: "1" as unknown as number }), "options.gapMs must be a number, got string"],
      [() => Player.start(bus, path, { skipMs: null as unknown as number }), "options.skipMs must be a number, got null"],
      [() => Player.start(bus, path, { queueSize: 10n as unknown as number }), "options.queueSize must be a number, got bigint"],
      [
        () => Player.start(bus, path, { ignoreTimestamps: 1 as unknown as boolean }),
        "options.ignoreTimestamps must be a boolean, got number",
      ],
      [() => Player.start(bus, path, { loop: "2" as unknown as number }), "options.loop must be a number or a boolean, got string"],
      [() => Player.start(bus, path, { loop: false as unknown as true }), "options.loop must be a positive integer or true, got false"],
    ];
    for (const [work, message] of cases) expect(codeAndMessageOf(work)).toEqual(["ERR_INVALID_ARGUMENT", message]);
  });
});
