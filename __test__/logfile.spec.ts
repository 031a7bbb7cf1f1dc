import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Bus, CanError, convertLog, formatFrame, LogReader, LogWriter, Message, type MessageInit } from "../src/index.js";
import { fixturesDir, uniqueChannel } from "./helpers.js";

const fixtures = fixturesDir() ?? "";
const dir = mkdtempSync(join(tmpdir(), "canwire-log-"));

async function readAll(path: string): Promise<Message[]> {
  const out: Message[] = [];
  for await (const m of LogReader.open(path)) out.push(m);
  return out;
}

const T0 = 1_700_000_000_123_456_000n;
const kinds: MessageInit[] = [
  { id: 0x123, data: [0xde, 0xad, 0xbe, 0xef], timestampNs: T0, channel: "0" },
  { id: 0x1abcdef, extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8], timestampNs: T0 + 1000n, channel: "1", isRx: false },
  { id: 0x7ff, remote: true, dlc: 3, timestampNs: T0 + 2000n, channel: "0" },
  { id: 0x456, fd: true, bitrateSwitch: true, data: new Uint8Array(64).fill(0x5a), timestampNs: T0 + 3000n, channel: "0" },
  { id: 0x18daf110, extended: true, fd: true, data: new Uint8Array(12).fill(1), timestampNs: T0 + 4000n, channel: "1" },
];

describe.skipIf(fixtures === "")("LogReader on files written by other tools", () => {
  it("reads python-can's BLF fixtures with exact values", async () => {
    const fd = await readAll(join(fixtures, "test_CanFdMessage.blf"));
    expect(fd).toHaveLength(2);
    expect([fd[0]!.fd, fd[0]!.bitrateSwitch, fd[0]!.errorStateIndicator, fd[0]!.dlc]).toEqual([true, true, true, 64]);
    expect(Array.from(fd[0]!.data)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    const classic = await readAll(join(fixtures, "test_CanMessage.blf"));
    // the fixture's DLC byte 0x33 is kept as the file has it; BLF channel 0x1111 is index 0x1110
    expect(classic.map((m) => [m.dlcCode, m.channel])).toEqual([
      [0x33, String(0x1110)],
      [0x33, String(0x1110)],
    ]);
  });

  it("reads ASC (also gzipped) and TRC fixtures, counting what it skips", async () => {
    const asc = LogReader.open(join(fixtures, "logfile.asc"));
    const messages: Message[] = [];
    for await (const m of asc) messages.push(m);
    expect(messages).toHaveLength(20);
    expect(asc.stats().skipped).toBeGreaterThan(0);
    const plain = await readAll(join(fixtures, "test_CanMessage.asc"));
    const gz = await readAll(join(fixtures, "test_CanMessage.asc.gz"));
    expect(gz.map(formatFrame)).toEqual(plain.map(formatFrame));
    expect(plain).toHaveLength(2);
    for (const name of [
      "test_CanMessage_V1_0_BUS1.trc",
      "test_CanMessage_V1_1.trc",
      "test_CanMessage_V2_0_BUS1.trc",
      "test_CanMessage_V2_1.trc",
    ]) {
      expect(await readAll(join(fixtures, name))).toHaveLength(11);
    }
  });
});

describe("LogWriter then LogReader", () => {
  it.each(["blf", "csv"])("keeps every field exactly in .%s", async (ext) => {
    const path = join(dir, `all.${ext}`);
    const out = LogWriter.create(path);
    await out.write(kinds);
    await out.close();
    const back = await readAll(path);
    back.forEach((m, i) => expect(m.equals(new Message(kinds[i]!), { timestampDeltaNs: 0 })).toBe(true));
  });

  it.each(["log", "log.gz", "asc", "trc"])("keeps frames, with microsecond timestamps, in .%s", async (ext) => {
    const path = join(dir, `all.${ext}`);
    const out = LogWriter.create(path, { channels: ["vcan0", "vcan1"] });
    await out.write(kinds.map((k) => ({ ...k, channel: k.channel === "0" ? "vcan0" : "vcan1" })));
    await out.close();
    const back = await readAll(path);
    expect(back.map(formatFrame)).toEqual(kinds.map((k) => formatFrame(new Message(k))));
    expect(back.map((m) => m.timestampNs)).toEqual(kinds.map((k) => k.timestampNs));
    if (ext.startsWith("log")) expect(back.map((m) => m.channel)).toEqual(["vcan0", "vcan1", "vcan0", "vcan0", "vcan1"]);
  });

  it("logs a bus and converts between formats with progress", async () => {
    const channel = uniqueChannel("log");
    await using tx = await Bus.open({ channel });
    await using rx = await Bus.open({ channel });
    await tx.sendBatch(Array.from({ length: 1000 }, (_, i) => ({ id: i % 0x800, data: [i & 0xff, i >> 8] })));
    const blf = join(dir, "bus.blf");
    const out = LogWriter.create(blf);
    let logged = 0;
    while (logged < 1000) {
      const batch = (await rx.recvBatch({ timeoutMs: 1000 }))!;
      await out.write(batch);
      logged += batch.length;
    }
    await out.close();
    const progress: number[] = [];
    const stats = await convertLog(blf, join(dir, "bus.log"), { onProgress: (n) => progress.push(n) });
    expect(stats.frames).toBe(1000);
    expect(progress.at(-1)).toBe(1000);
    const lines = readFileSync(join(dir, "bus.log"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(1000);
    // BLF numbers channels: the bus's name became index 0, written as "0"; the trailing R is the direction
    expect(lines[1]).toMatch(/^\(\d{10}\.\d{6}\) 0 001#0100 R$/);
  });
});

describe("append", () => {
  it("adds to BLF and .log files, refusing formats with headers", async () => {
    for (const ext of ["blf", "log"]) {
      const path = join(dir, `append.${ext}`);
      const first = LogWriter.create(path);
      await first.write([{ id: 1 }, { id: 2 }]);
      await first.close();
      const more = LogWriter.create(path, { append: true });
      await more.write([{ id: 3 }]);
      await more.close();
      expect((await readAll(path)).map((m) => m.id)).toEqual([1, 2, 3]);
    }
    const asc = join(dir, "append.asc");
    const w = LogWriter.create(asc);
    await w.write([{ id: 1 }]);
    await w.close();
    expect(() => LogWriter.create(asc, { append: true })).toThrow(expect.objectContaining({ code: "ERR_UNSUPPORTED" }));
  });
});

describe("bad input", () => {
  it("reads a cut BLF file up to its last whole object and reports the truncation", async () => {
    const path = join(dir, "cut.blf");
    const out = LogWriter.create(path, { compressionLevel: 0 });
    await out.write(Array.from({ length: 100 }, (_, i) => ({ id: i, data: [i] })));
    await out.close();
    truncateSync(path, statSync(path).size - 10);
    const reader = LogReader.open(path);
    let n = 0;
    for await (const _ of reader) n++;
    expect(n).toBeGreaterThan(90);
    expect(n).toBeLessThan(100);
    expect(reader.stats().truncated).not.toBeNull();
  });

  it("counts unknown lines with their line numbers instead of failing", async () => {
    const path = join(dir, "mixed.log");
    writeFileSync(path, "(1.000000) can0 123#00\nthis is not a frame\n(2.000000) can0 124#01\n");
    const reader = LogReader.open(path);
    expect((await readAll(path)).map(formatFrame)).toEqual(["123#00", "124#01"]);
    for await (const _ of reader) {
      // read it all
    }
    expect(reader.stats()).toMatchObject({ frames: 2, unknown: 1, issues: [{ line: 2, skipped: false }] });
  });

  it("gives typed errors for missing files and unknown extensions", () => {
    expect(() => LogReader.open(join(dir, "nope.blf"))).toThrow(
      expect.objectContaining({ code: "ERR_OS", message: expect.stringMatching(/ENOENT/) }),
    );
    expect(() => LogReader.open(join(dir, "x.mdf"))).toThrow(
      expect.objectContaining({ code: "ERR_UNSUPPORTED", message: expect.stringMatching(/allowed \.blf \.mf4 \.asc/) }),
    );
    expect(() => LogWriter.create(join(dir, "x.csv"), { compressionLevel: 12 })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});

/** What `work` throws or rejects with: its class, code and message. */
async function failure(work: () => unknown): Promise<[boolean, string, string]> {
  try {
    await work();
  } catch (error) {
    return [error instanceof CanError, (error as CanError).code, (error as Error).message];
  }
  throw new Error("no error");
}

describe("wrong types name the argument and the type expected", () => {
  const path = join(dir, "types.log");
  const bad = (message: string): [boolean, string, string] => [true, "ERR_INVALID_ARGUMENT", message];

  it("LogWriter.create", async () => {
    const cases: Array<[() => unknown, string]> = [
      [() => LogWriter.create(undefined as unknown as string), "path must be a string, got undefined"],
      [() => LogWriter.create(5 as unknown as string), "path must be a string, got number"],
      [() => LogWriter.create(path, null as unknown as object), "options must be an object, got null"],
      [() => LogWriter.create(path, [] as unknown as object), "options must be an object, got array"],
      [
        () => LogWriter.create(path, { compressionLevel: "9" as unknown as number }),
        "options.compressionLevel must be a number, got string",
      ],
      [() => LogWriter.create(path, { gzipLevel: true as unknown as number }), "options.gzipLevel must be a number, got boolean"],
      [() => LogWriter.create(path, { channels: "can0" as unknown as string[] }), "options.channels must be an array, got string"],
      [() => LogWriter.create(path, { channels: ["a", 1 as unknown as string] }), "options.channels[1] must be a string, got number"],
      [() => LogWriter.create(path, { csvFlavor: 1 as unknown as "canwire" }), "options.csvFlavor must be a string, got number"],
      [() => LogWriter.create(path, { append: "yes" as unknown as boolean }), "options.append must be a boolean, got string"],
      [
        () => LogWriter.create(path, { flushIntervalMs: "20" as unknown as number }),
        "options.flushIntervalMs must be a number, got string",
      ],
      [() => LogWriter.create(path, { flushIntervalMs: Infinity }), "options.flushIntervalMs must be a number 0..2147483647, got Infinity"],
      [() => LogWriter.create(path, { compressionLevel: 1.5 }), "options.compressionLevel must be an integer 0..=9, got 1.5"],
      [() => LogWriter.create(path, { gzipLevel: -1 }), "options.gzipLevel must be an integer 0..=9, got -1"],
      [
        () => LogWriter.create(path, { csvFlavor: "excel" as unknown as "canwire" }),
        "options.csvFlavor must be 'canwire' or 'python-can', got 'excel'",
      ],
    ];
    for (const [work, message] of cases) expect(await failure(work)).toEqual(bad(message));
  });

  it("LogReader.open, readBatch and convertLog", async () => {
    const w = LogWriter.create(path);
    await w.write({ id: 1 });
    await w.close();
    await using reader = LogReader.open(path);
    const out = join(dir, "types.asc");
    const cases: Array<[() => unknown, string]> = [
      [() => LogReader.open(undefined as unknown as string), "path must be a string, got undefined"],
      [() => reader.readBatch("5" as unknown as number), "max must be a number, got string"],
      [() => convertLog(5 as unknown as string, out), "input must be a string, got number"],
      [() => convertLog(path, null as unknown as string), "output must be a string, got null"],
      [() => convertLog(path, out, null as unknown as object), "options must be an object, got null"],
      [() => convertLog(path, out, { onProgress: 1 as unknown as () => void }), "options.onProgress must be a function, got number"],
      [
        () => convertLog(path, out, { compressionLevel: "9" as unknown as number }),
        "options.compressionLevel must be a number, got string",
      ],
    ];
    for (const [work, message] of cases) expect(await failure(work)).toEqual(bad(message));
  });
});

describe("crash safety", () => {
  it("flushes on its own: a BLF file is readable before close", async () => {
    const path = join(dir, "live.blf");
    const out = LogWriter.create(path, { flushIntervalMs: 20 });
    await out.write(Array.from({ length: 10 }, (_, i) => ({ id: i })));
    await new Promise((r) => setTimeout(r, 80));
    const reader = LogReader.open(path);
    let n = 0;
    for await (const _ of reader) n++;
    expect(n).toBe(10);
    await out.close();
    expect(() => LogWriter.create(path, { flushIntervalMs: -1 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});

describe("corrupt files", () => {
  it("a file that is not BLF is an InvalidArgumentError with ERR_CORRUPT_FILE", async () => {
    const { InvalidArgumentError } = await import("../src/index.js");
    const path = join(dir, "not.blf");
    writeFileSync(path, Buffer.alloc(200, 0x41));
    let error: unknown;
    try {
      LogReader.open(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as { code: string }).code).toBe("ERR_CORRUPT_FILE");
  });
});
