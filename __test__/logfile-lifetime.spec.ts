import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Bus, CanError, formatFrame, Logger, LogReader, LogWriter, type Message, type MessageInit, Player } from "../src/index.js";
import { runCli, uniqueChannel } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "canwire-loglife-"));
const T0 = 1_700_000_000_123_456_789n;
const frame = (i: number): MessageInit => ({ id: 0x100 + i, data: [i, i, i], timestampNs: T0 + BigInt(i) * 1000n, channel: "0" });

/** Rejects with a CanError: its code. */
async function codeOf(work: () => unknown): Promise<string> {
  try {
    await work();
  } catch (error) {
    expect(error).toBeInstanceOf(CanError);
    return (error as CanError).code;
  }
  throw new Error("no error");
}

/** Where this OS lists the process's open descriptors (none on Windows: the fd counts are not checked there). */
const fdDir = ["/proc/self/fd", "/dev/fd"].find((dir) => existsSync(dir));

function openFds(): number {
  return fdDir === undefined ? 0 : readdirSync(fdDir).length;
}

/** Expects `n` open descriptors where the OS can list them. */
function expectOpenFds(n: number): void {
  if (fdDir !== undefined) expect(openFds()).toBe(n);
}

/** The descriptors open on files whose path starts with `prefix` (-1 where the OS cannot tell: no /proc). */
function fdsOn(prefix: string): number {
  if (!existsSync("/proc/self/fd")) return -1;
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(prefix)) n++;
    } catch {
      // closed between listing and reading the link
    }
  }
  return n;
}

/** Expects `n` descriptors open on files starting with `prefix`, where /proc tells. */
function expectFdsOn(prefix: string, n: number): void {
  const got = fdsOn(prefix);
  if (got >= 0) expect(got).toBe(n);
}

/** Frames 1 and 2, a flush, frame 3: two containers; then the last "LOBJ" overwritten. */
async function damagedBlf(name: string): Promise<{ path: string; offset: number }> {
  const path = join(dir, name);
  const w = LogWriter.create(path);
  await w.write([frame(1), frame(2)]);
  await w.flush();
  await w.write(frame(3));
  await w.close();
  const bytes = readFileSync(path);
  const offset = bytes.lastIndexOf("LOBJ");
  bytes.write("XXXX", offset, "latin1");
  writeFileSync(path, bytes);
  return { path, offset };
}

describe("a damaged BLF file (12.1)", () => {
  it("yields every frame before the damage, then rejects with ERR_CORRUPT_FILE naming the offset", async () => {
    const { path, offset } = await damagedBlf("damaged.blf");
    const reader = LogReader.open(path);
    const got: Message[] = [];
    let error: unknown;
    try {
      for await (const m of reader) got.push(m);
    } catch (e) {
      error = e;
    }
    expect(got.map(formatFrame)).toEqual(["101#010101", "102#020202"]);
    expect((error as CanError).code).toBe("ERR_CORRUPT_FILE");
    expect((error as CanError).message).toContain(`byte offset ${offset}: no object signature`);
    const stats = reader.stats();
    expect([stats.frames, stats.damaged]).toEqual([2, 1]);
    expect(stats.damage[0]?.byteOffset).toBe(offset);
    expect(stats.damagedBytes).toBe(readFileSync(path).length - offset);
    expect(reader.isOpen).toBe(false);
  });

  it("canwire dump prints what was read and exits 1 with the typed error", async () => {
    const { path, offset } = await damagedBlf("dump.blf");
    const { code, stdout, stderr } = await runCli(["dump", path]);
    expect(
      stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" ").slice(2).join(" ")),
    ).toEqual(["101#010101", "102#020202"]);
    expect(code).toBe(1);
    expect(stderr).toContain("ERR_CORRUPT_FILE");
    expect(stderr).toContain(`1 damaged stretches skipped, ${readFileSync(path).length - offset} bytes (first at byte offset ${offset}`);
  });
});

describe("LogReader lifetime (12.13, 11.6)", () => {
  it("closes its file at the end: 100 finished readers hold no descriptor", async () => {
    const path = join(dir, "ten.blf");
    const w = LogWriter.create(path);
    await w.write(Array.from({ length: 10 }, (_, i) => frame(i)));
    await w.close();
    const before = openFds();
    const readers: LogReader[] = [];
    for (let i = 0; i < 100; i++) {
      const r = LogReader.open(path);
      readers.push(r);
      let n = 0;
      for await (const _ of r) n++;
      expect(n).toBe(10);
    }
    expectOpenFds(before);
    expect(readers.every((r) => !r.isOpen)).toBe(true);
    expect(readers[0]!.stats().frames).toBe(10);
  });

  it("closes on close(), on break out of for await, and at the end of await using", async () => {
    const path = join(dir, "many.log");
    const w = LogWriter.create(path);
    await w.write(Array.from({ length: 50 }, (_, i) => frame(i)));
    await w.close();
    const before = openFds();
    const a = LogReader.open(path);
    expectOpenFds(before + 1);
    expect((await a.readBatch(5))?.length).toBe(5);
    await a.close();
    await a.close();
    expect(a.isOpen).toBe(false);
    expect(await codeOf(() => a.readBatch())).toBe("ERR_CLOSED");
    expect(a.stats().frames).toBe(5);
    const b = LogReader.open(path);
    for await (const m of b) if (m.id === 0x102) break;
    expect(b.isOpen).toBe(false);
    {
      await using c = LogReader.open(path);
      await c.readBatch(1);
      expectOpenFds(before + 1);
    }
    expectOpenFds(before);
  });

  it("startTimeNs is exact to the nanosecond (no detour through a JS number)", async () => {
    const path = join(dir, "start.blf");
    const w = LogWriter.create(path);
    await w.write(frame(0));
    await w.close();
    // BLF keeps the start in ms: 1700000000123000000 is not a double (spacing 256 there)
    expect(LogReader.open(path).startTimeNs).toBe(1_700_000_000_123_000_000n);
  });
});

describe("LogWriter lifetime", () => {
  it("close() releases the file of every format: 50 closed writers each hold no descriptor", async () => {
    for (const ext of ["blf", "asc", "log", "trc", "csv", "asc.gz", "log.gz", "trc.gz", "csv.gz"]) {
      const prefix = join(dir, `closed-${ext}-`);
      for (let i = 0; i < 50; i++) {
        const w = LogWriter.create(`${prefix}${i}.${ext}`);
        expectFdsOn(prefix, 1);
        await w.write(frame(i));
        await w.close();
        expectFdsOn(prefix, 0);
      }
    }
  });

  it("after close() writes and flushes reject with ERR_CLOSED, close() stays idempotent", async () => {
    for (const ext of ["blf", "asc", "log.gz"]) {
      const path = join(dir, `after-close.${ext}`);
      const w = LogWriter.create(path);
      await w.write(frame(1));
      await w.close();
      expectFdsOn(path, 0);
      await w.close();
      expect(await codeOf(() => w.write(frame(2)))).toBe("ERR_CLOSED");
      expect(await codeOf(() => w.flush())).toBe("ERR_CLOSED");
      const ids: number[] = [];
      for await (const m of LogReader.open(path)) ids.push(m.id);
      expect(ids).toEqual([0x101]);
    }
  });
});

describe("log arguments are checked with typed errors (12.4–12.6)", () => {
  it("LogReader.open, readBatch and batches", async () => {
    expect(await codeOf(() => LogReader.open(null as unknown as string))).toBe("ERR_INVALID_ARGUMENT");
    expect(await codeOf(() => LogReader.open(5 as unknown as string))).toBe("ERR_INVALID_ARGUMENT");
    const path = join(dir, "args.log");
    const w = LogWriter.create(path);
    await w.write(frame(1));
    await w.close();
    await using r = LogReader.open(path);
    for (const bad of [-1, 0, 1.5, Number.NaN, 2 ** 32, 2 ** 20 + 1, "5"]) {
      expect(await codeOf(() => r.readBatch(bad as number))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeOf(() => r.batches(bad as number).next())).toBe("ERR_INVALID_ARGUMENT");
    }
    expect((await r.readBatch(2 ** 20))?.length).toBe(1);
  });

  it("LogWriter.write(null) and an array holding null", async () => {
    await using w = LogWriter.create(join(dir, "null.log"));
    expect(await codeOf(() => w.write(null as unknown as MessageInit))).toBe("ERR_INVALID_ARGUMENT");
    expect(await codeOf(() => w.write([frame(1), null as unknown as MessageInit]))).toBe("ERR_INVALID_ARGUMENT");
    expect(await codeOf(() => w.write(7 as unknown as MessageInit))).toBe("ERR_INVALID_ARGUMENT");
  });
});

describe("Logger and Player (12.8, 12.6, 12.13, 11.6)", () => {
  it("a failed Logger.start leaves no reader on the bus", async () => {
    await using bus = await Bus.open({ channel: uniqueChannel("lf") });
    const readers = bus.stats().readers.length;
    const cases: Array<[string, object, string]> = [
      [join(dir, "no-such-dir", "x.blf"), {}, "ERR_OS"],
      [join(dir, "x.xyz"), {}, "ERR_UNSUPPORTED"],
      [join(dir, "x.blf"), { compressionLevel: 99 }, "ERR_INVALID_ARGUMENT"],
      [join(dir, "y.blf"), { queueSize: -1 }, "ERR_INVALID_ARGUMENT"],
      [join(dir, "y.blf"), { queueSize: Number.NaN }, "ERR_INVALID_ARGUMENT"],
      [join(dir, "y.blf"), { queueSize: 2 ** 53 }, "ERR_INVALID_ARGUMENT"],
    ];
    for (const [path, options, code] of cases) {
      for (let i = 0; i < 3; i++) expect(await codeOf(() => Logger.start(bus, path, options))).toBe(code);
    }
    expect(bus.stats().readers.length).toBe(readers);
  });

  it("Logger has close() and Symbol.asyncDispose", async () => {
    const channel = uniqueChannel("lf");
    await using tx = await Bus.open({ channel });
    await using rx = await Bus.open({ channel });
    const path = join(dir, "disposed.log");
    let outer: Logger | undefined;
    {
      await using logger = Logger.start(rx, path);
      outer = logger;
      await tx.send({ id: 0x321, data: [1] });
      await new Promise((r) => setTimeout(r, 50));
      expect(logger.stats().frames).toBe(1);
    }
    // disposed: the file is complete and nothing more is logged
    expect(readFileSync(path, "utf8")).toMatch(/^\(\d+\.\d{6}\) lf-\S+ 321#01 R\n$/);
    await tx.send({ id: 0x322, data: [2] });
    await new Promise((r) => setTimeout(r, 20));
    expect(outer.stats().frames).toBe(1);
    await outer.close();
  });

  it("Player refuses gaps that would send the whole file at once, and bad queue sizes", async () => {
    await using bus = await Bus.open({ channel: uniqueChannel("pl") });
    const path = join(dir, "play.log");
    const w = LogWriter.create(path);
    await w.write([frame(1), frame(2)]);
    await w.close();
    const before = openFds();
    for (const options of [
      { gapMs: Infinity },
      { gapMs: 1e300 },
      { gapMs: Number.NaN },
      { gapMs: -1 },
      { skipMs: Infinity },
      { skipMs: 86_400_001 },
      { queueSize: -1 },
      { queueSize: 2 ** 53 },
      { queueSize: 1.5 },
    ]) {
      expect(await codeOf(() => Player.start(bus, path, options))).toBe("ERR_INVALID_ARGUMENT");
    }
    expectOpenFds(before);
  });

  it("Player opens its file once and closes it when done, stopped or disposed", async () => {
    const channel = uniqueChannel("pl");
    await using bus = await Bus.open({ channel });
    await using rx = await Bus.open({ channel });
    const path = join(dir, "play2.log");
    const w = LogWriter.create(path);
    await w.write([frame(1), frame(2)]);
    await w.close();
    const before = openFds();
    const player = Player.start(bus, path, { gapMs: 1, ignoreTimestamps: true });
    expectOpenFds(before + 1);
    expect(await player.finished).toEqual({ sent: 2, sendErrors: 0, passes: 1 });
    expectOpenFds(before);
    {
      await using looping = Player.start(bus, path, { gapMs: 1, loop: true });
      await new Promise((r) => setTimeout(r, 20));
      expect(looping.stats().passes).toBeGreaterThan(0);
    }
    expectOpenFds(before);
    expect((await rx.recvBatch({ max: 2, timeoutMs: 100 }))?.length).toBe(2);
  });
});
