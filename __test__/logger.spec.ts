import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { log } from "../src/cli/log.js";
import { Bus, Logger, LogReader, rotatedName } from "../src/index.js";
import { codeAndMessageOf, uniqueChannel } from "./helpers.js";

async function countFrames(path: string): Promise<number[]> {
  const ids: number[] = [];
  for await (const m of LogReader.open(path)) ids.push(m.id);
  return ids;
}

describe("Logger", () => {
  it("logs every frame of a bus to one file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "canwire-logger-"));
    const channel = uniqueChannel("lg");
    await using tx = await Bus.open({ channel });
    await using rx = await Bus.open({ channel });
    const logger = Logger.start(rx, join(dir, "all.blf"));
    await tx.sendBatch(Array.from({ length: 5000 }, (_, i) => ({ id: i % 0x800, data: [i & 0xff] })));
    await new Promise((r) => setTimeout(r, 50));
    const stats = await logger.stop();
    expect(stats).toEqual({ frames: 5000, files: [join(dir, "all.blf")], dropped: 0 });
    const ids = await countFrames(join(dir, "all.blf"));
    expect(ids).toEqual(Array.from({ length: 5000 }, (_, i) => i % 0x800));
  });

  it("rotates by size without losing or repeating a frame", async () => {
    const dir = mkdtempSync(join(tmpdir(), "canwire-logger-"));
    const channel = uniqueChannel("lg");
    await using tx = await Bus.open({ channel });
    await using rx = await Bus.open({ channel });
    const logger = Logger.start(rx, join(dir, "cap.log"), { rotateSizeBytes: 20_000 });
    for (let wave = 0; wave < 10; wave++) {
      await tx.sendBatch(Array.from({ length: 100 }, (_, i) => ({ id: wave * 100 + i })));
      await new Promise((r) => setTimeout(r, 10));
    }
    const stats = await logger.stop();
    expect(stats.frames).toBe(1000);
    expect(stats.files.length).toBeGreaterThan(1);
    expect(readdirSync(dir).sort()).toEqual(stats.files.map((f) => f.slice(dir.length + 1)).sort());
    const all: number[] = [];
    for (const f of stats.files) all.push(...(await countFrames(f)));
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(stats.files[0]).toMatch(/cap_\d{8}T\d{6}_#000\.log$/);
  });

  it("names rotated files after python-can's scheme", () => {
    expect(rotatedName("/x/drive.asc.gz", 7, new Date("2026-11-21T12:34:56Z"))).toBe("/x/drive_20261121T123456_#007.asc.gz");
  });
});

describe("rotatedName arguments", () => {
  it("a wrong type is ERR_INVALID_ARGUMENT naming the argument", () => {
    const cases: Array<[() => unknown, string]> = [
      [() => rotatedName(5 as unknown as string, 0), "path must be a string, got number"],
      [() => rotatedName("a.log", "1" as unknown as number), "n must be an integer >= 0, got string"],
      [() => rotatedName("a.log", -1), "n must be an integer >= 0, got -1"],
      [() => rotatedName("a.log", 0, "now" as unknown as Date), "now must be a valid Date, got string"],
      [() => rotatedName("a.log", 0, new Date(Number.NaN)), "now must be a valid Date, got Invalid Date"],
    ];
    for (const [work, message] of cases) {
      expect(work).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message }));
    }
  });
});

describe("Logger.start arguments", () => {
  it("a wrong type is ERR_INVALID_ARGUMENT naming the argument, and leaves no reader on the bus", async () => {
    const dir = mkdtempSync(join(tmpdir(), "canwire-logger-"));
    await using bus = await Bus.open({ channel: uniqueChannel("lg") });
    const readers = bus.stats().readers.length;
    const path = join(dir, "x.log");
    const cases: Array<[() => unknown, string]> = [
      [() => Logger.start(bus, 5 as unknown as string), "path must be a string, got number"],
      [() => Logger.start({} as Bus, path), "bus must be a Bus (from Bus.open), got object"],
      [() => Logger.start(undefined as unknown as Bus, path), "bus must be a Bus (from Bus.open), got undefined"],
      [() => Logger.start(bus, path, null as unknown as object), "options must be an object, got null"],
      [() => Logger.start(bus, path, { queueSize: "8" as unknown as number }), "options.queueSize must be a number, got string"],
      [() => Logger.start(bus, path, { queueSize: 0 }), "options.queueSize must be an integer 1..16777216, got 0"],
      [
        () => Logger.start(bus, path, { rotateSizeBytes: "1e6" as unknown as number }),
        "options.rotateSizeBytes must be a number, got string",
      ],
      [() => Logger.start(bus, path, { rotateIntervalMs: -5 }), "options.rotateIntervalMs must be a number > 0, got -5"],
      [
        () => Logger.start(bus, path, { compressionLevel: "9" as unknown as number }),
        "options.compressionLevel must be a number, got string",
      ],
      [() => Logger.start(bus, path, { channels: [null as unknown as string] }), "options.channels[0] must be a string, got null"],
      [
        () => Logger.start(bus, path, { flushIntervalMs: false as unknown as number }),
        "options.flushIntervalMs must be a number, got boolean",
      ],
    ];
    for (const [work, message] of cases) expect(codeAndMessageOf(work)).toEqual(["ERR_INVALID_ARGUMENT", message]);
    expect(bus.stats().readers.length).toBe(readers);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("canwire log", () => {
  it("logs for --duration-ms and reports on stderr", async () => {
    const dir = mkdtempSync(join(tmpdir(), "canwire-logcli-"));
    const channel = uniqueChannel("lg");
    await using tx = await Bus.open({ channel });
    const errors: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(line));
    try {
      const running = log(["-c", channel, "-o", join(dir, "cli.log"), "--duration-ms", "200", "--filter", "100:700"]);
      await new Promise((r) => setTimeout(r, 50));
      await tx.sendBatch([
        { id: 0x123, data: [1] },
        { id: 0x223, data: [2] },
        { id: 0x1ff, data: [3] },
      ]);
      expect(await running).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(errors).toEqual([`2 frames in 1 file(s), 0 dropped: ${join(dir, "cli.log")}`]);
    const lines = readFileSync(join(dir, "cli.log"), "utf8").trim().split("\n");
    expect(lines.map((l) => l.split(" ").slice(1).join(" "))).toEqual([`${channel} 123#01 R`, `${channel} 1FF#03 R`]);
  });
});
