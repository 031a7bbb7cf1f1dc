/**
 * MF4 (ASAM MDF 4.1) logs against python-can 4.6's MF4Writer/MF4Reader and
 * asammdf 8.8 in the peers' venv: canwire's files open in asammdf with
 * python-can's channel groups and read back exactly through MF4Reader (every
 * compression level), python-can's files (plain, deflate, transposed deflate
 * behind HL/DL lists) read exactly in canwire, and damaged files give the
 * frames before the damage and then a typed error.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { log } from "../src/cli/log.js";
import { Bus, convertLog, Logger, LogReader, LogWriter, type Message, type MessageInit } from "../src/index.js";
import { runCli, uniqueChannel } from "./helpers.js";
import { skipWithoutPythonPeers } from "./peers/index.js";
import { pythonCanReads, pythonCanWrites, runPythonCan } from "./python-can.js";

const dir = mkdtempSync(join(tmpdir(), "canwire-mf4-"));

/** What python-can's MF4Reader reads from `path`. */
const pythonReads = (path: string) => pythonCanReads("MF4Reader", path);

/** python-can's MF4Writer writing `messages` (Message keyword arguments) at `level`. */
const pythonWrites = (path: string, messages: object[], level: number) =>
  pythonCanWrites("MF4Writer", path, messages, { compression_level: level });

/** A message as python-can's fields, timestamps in ns. */
function asPython(m: Message) {
  return {
    ts: m.timestampNs,
    arbitration_id: m.id,
    is_extended_id: m.extended,
    is_remote_frame: m.remote,
    is_error_frame: m.error,
    is_fd: m.fd,
    bitrate_switch: m.bitrateSwitch,
    error_state_indicator: m.errorStateIndicator,
    dlc: m.dlc,
    data: Array.from(m.data),
    channel: Number(m.channel),
    is_rx: m.isRx,
  };
}

/** The first four data bytes as a little-endian number. */
function u32(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
}

/**
 * asammdf itself writing 60000 data frames in python-can's layout in one
 * call (python-can's MF4Writer takes seconds per 10000 frames) at `level`:
 * frame i has id i % 2048, channel i % 4, data i as 4 little-endian bytes,
 * time 1765000000 + i ms.
 */
function asammdfWrites(path: string, level: number): void {
  runPythonCan(
    `from datetime import datetime, timezone
import numpy as np
from asammdf import MDF, Signal
from asammdf.blocks.v4_blocks import SourceInformation
from asammdf.blocks.v4_constants import BUS_TYPE_CAN, SOURCE_BUS
from can.io.mf4 import STD_DTYPE
n = 60000
i = np.arange(n)
s = np.zeros(n, dtype=STD_DTYPE)
s["CAN_DataFrame.BusChannel"] = i % 4
s["CAN_DataFrame.ID"] = i % 2048
s["CAN_DataFrame.DLC"] = 4
s["CAN_DataFrame.DataLength"] = 4
s["CAN_DataFrame.DataBytes"][:, :4] = i.astype("<u4").view("u1").reshape(n, 4)
mdf = MDF(version="4.10")
mdf.header.start_time = datetime.fromtimestamp(1765000000, timezone.utc)
mdf.append(Signal(name="CAN_DataFrame", samples=s, timestamps=i * 0.001,
                  source=SourceInformation(source_type=SOURCE_BUS, bus_type=BUS_TYPE_CAN)))
mdf.save(data["path"], overwrite=True, compression=data["level"])
mdf.close()
result = True`,
    { path, level },
  );
}

async function readAll(path: string): Promise<Message[]> {
  const out: Message[] = [];
  for await (const m of LogReader.open(path)) out.push(m);
  return out;
}

const T0 = 1765000000123456789n;
const FRAMES: MessageInit[] = [
  { timestampNs: T0, id: 0x123, data: [0xde, 0xad, 0xbe] },
  { timestampNs: T0 + 1_000_001n, id: 0x1abcdef0, extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8], isRx: false, channel: "1" },
  { timestampNs: T0 + 2_000_002n, id: 0x7ff, remote: true, dlc: 5, channel: "2" },
  { timestampNs: T0 + 3_000_003n, id: 0x4, error: true, data: [0, 0x10, 0, 0, 0, 0, 0, 0] },
  {
    timestampNs: T0 + 4_000_004n,
    id: 0x456,
    fd: true,
    bitrateSwitch: true,
    errorStateIndicator: true,
    data: Array.from({ length: 64 }, (_, i) => i),
    channel: "3",
  },
  { timestampNs: T0 + 5_000_005n, id: 0x1f, extended: true, fd: true, data: Array.from({ length: 12 }, (_, i) => 0xa0 + i) },
  { timestampNs: T0 + 6_000_006n, id: 0x0, data: [], isRx: false },
];

describe("MF4 files of canwire's own", () => {
  it("round trip every frame kind and field exactly, to the nanosecond, at every compression level", async () => {
    for (const mf4Compression of [0, 1, 2]) {
      const path = join(dir, `own-${mf4Compression}.mf4`);
      const out = LogWriter.create(path, { mf4Compression });
      expect(out.format).toBe("mf4");
      await out.write(FRAMES);
      await out.close();
      const back = await readAll(path);
      expect(back.map(asPython)).toEqual(
        FRAMES.map((f) => ({
          ts: f.timestampNs,
          arbitration_id: f.id,
          is_extended_id: f.extended ?? false,
          is_remote_frame: f.remote ?? false,
          is_error_frame: f.error ?? false,
          is_fd: f.fd ?? false,
          bitrate_switch: f.bitrateSwitch ?? false,
          error_state_indicator: f.errorStateIndicator ?? false,
          dlc: f.remote ? f.dlc : (f.data?.length ?? 0),
          data: f.data ?? [],
          channel: Number(f.channel ?? "0"),
          is_rx: f.isRx ?? true,
        })),
      );
      expect(LogReader.open(path).format).toBe("mf4");
    }
  });

  it("a writer killed between flushes leaves an unfinished file canwire reads up to the last flush", async () => {
    const path = join(dir, "killed.mf4");
    const index = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const script = `
      import { LogWriter } from ${JSON.stringify(index)};
      const out = LogWriter.create(${JSON.stringify(path)}, { flushIntervalMs: 0 });
      await out.write(Array.from({ length: 300 }, (_, i) => ({ id: i, data: [1] })));
      await out.flush();
      await out.write(Array.from({ length: 200 }, (_, i) => ({ id: 0x400 + i, data: [2] })));
      process.kill(process.pid, "SIGKILL");
    `;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { timeout: 20_000 });
    expect(run.signal).toBe("SIGKILL");
    expect(readFileSync(path).subarray(0, 8).toString("latin1")).toBe("UnFinMF ");
    const reader = LogReader.open(path);
    const ids: number[] = [];
    for await (const m of reader) ids.push(m.id);
    expect(ids).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(reader.stats().truncated?.reason).toContain("UnFinMF");
  });

  it("refuses what MF4 cannot hold with typed errors", async () => {
    expect(() => LogWriter.create(join(dir, "x.mf4"), { mf4Compression: 3 })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("options.mf4Compression") }),
    );
    expect(() => LogWriter.create(join(dir, "x.mf4.gz"))).toThrow(expect.objectContaining({ code: "ERR_UNSUPPORTED" }));
    const out = LogWriter.create(join(dir, "channel.mf4"));
    await expect(out.write([{ id: 1, channel: "256" }])).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
      message: expect.stringContaining("channel 256 is over 255"),
    });
    await out.close();
    writeFileSync(join(dir, "not.mf4"), "hello, this is text and not an MDF file at all: 64 bytes and more......");
    expect(() => LogReader.open(join(dir, "not.mf4"))).toThrow(
      expect.objectContaining({ code: "ERR_CORRUPT_FILE", message: expect.stringContaining("not an MDF file") }),
    );
  });
});

/** The header's start of a file whose first frame is FRAMES[0]: its time cut to whole µs. */
const START = T0 - (T0 % 1000n);

/** `ns` stored at µs resolution and read back: the nearest µs from START, ties to even, as ns. */
function atMicroseconds(ns: bigint): bigint {
  const offset = ns - START;
  let us = offset / 1000n;
  const rest = offset % 1000n;
  if (rest * 2n > 1000n || (rest * 2n === 1000n && us % 2n === 1n)) us += 1n;
  return START + us * 1000n;
}

/** FRAMES, then frames exactly half a µs past a whole one (ties), odd and even. */
const US_FRAMES: MessageInit[] = [
  ...FRAMES,
  { timestampNs: START + 7_000_500n, id: 0x100, data: [1] },
  { timestampNs: START + 7_001_500n, id: 0x101, data: [2] },
  { timestampNs: START + 7_002_499n, id: 0x102, data: [3] },
  { timestampNs: START + 7_002_501n, id: 0x103, data: [4] },
];

describe("MF4 files at microsecond resolution", () => {
  it("round trip to the µs (nearest, ties to even), every other field exact", async () => {
    const ns = join(dir, "res-ns.mf4");
    const us = join(dir, "res-us.mf4");
    for (const [path, mf4TimeResolution] of [
      [ns, "ns"],
      [us, "us"],
    ] as const) {
      const out = LogWriter.create(path, { mf4TimeResolution });
      await out.write(US_FRAMES);
      await out.close();
    }
    const exact = await readAll(ns);
    expect(exact.map((m) => m.timestampNs)).toEqual(US_FRAMES.map((f) => f.timestampNs));
    const back = await readAll(us);
    expect(back.map((m) => m.timestampNs)).toEqual(US_FRAMES.map((f) => atMicroseconds(f.timestampNs!)));
    expect(back.map((m) => m.timestampNs - START).slice(0, 2)).toEqual([1000n, 1_001_000n]);
    expect(back.slice(-4).map((m) => m.timestampNs - START)).toEqual([7_000_000n, 7_002_000n, 7_002_000n, 7_003_000n]);
    const untimed = (m: Message) => {
      const { ts: _, ...rest } = asPython(m);
      return rest;
    };
    expect(back.map(untimed)).toEqual(exact.map(untimed));
  });

  it("canwire log --mf4-time-resolution us logs whole µs", async () => {
    const channel = uniqueChannel("mf4us");
    await using tx = await Bus.open({ channel });
    const path = join(dir, "cli-us.mf4");
    const running = log(["-c", channel, "-o", path, "--duration-ms", "300", "--mf4-time-resolution", "us"]);
    await new Promise((r) => setTimeout(r, 50));
    await tx.sendBatch(Array.from({ length: 20 }, (_, i) => ({ id: i, data: [i] })));
    expect(await running).toBe(0);
    const back = await readAll(path);
    expect(back.map((m) => m.id)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(back.filter((m) => m.timestampNs % 1000n !== 0n)).toEqual([]);
    await expect(log(["-c", channel, "-o", path, "--mf4-time-resolution", "ns10"])).rejects.toThrow(
      "--mf4-time-resolution is ns or us, got 'ns10'",
    );
  });

  it("refuses a time resolution other than ns or us", () => {
    for (const bad of ["ms", "µs", ""]) {
      expect(() => LogWriter.create(join(dir, "bad-res.mf4"), { mf4TimeResolution: bad as "us" })).toThrow(
        expect.objectContaining({
          code: "ERR_INVALID_ARGUMENT",
          message: expect.stringMatching(/options\.mf4TimeResolution must be "ns" .* or "us"/),
        }),
      );
    }
    expect(() => LogWriter.create(join(dir, "bad-res.mf4"), { mf4TimeResolution: 6 as unknown as "us" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("options.mf4TimeResolution") }),
    );
  });
});

describe.skipIf(skipWithoutPythonPeers())("MF4 logs against python-can 4.6 and asammdf 8.8", () => {
  it.each([0, 1, 2])(
    "canwire's file (level %i) opens in asammdf with python-can's channel groups and MF4Reader reads every frame exactly",
    async (mf4Compression) => {
      const path = join(dir, `to-python-${mf4Compression}.mf4`);
      const out = LogWriter.create(path, { mf4Compression });
      await out.write(FRAMES);
      await out.close();
      const groups = runPythonCan(
        `from asammdf import MDF
m = MDF(data["path"])
result = dict(version=m.version, groups=[[g.channel_group.cycles_nr, g.channel_group.acq_source.bus_type, [c.name for c in g.channels]] for g in m.groups])
m.close()`,
        { path },
      );
      const members = (g: string, names: string[]) => [g, ...names.map((n) => `${g}.${n}`)];
      const full = ["BusChannel", "ID", "IDE", "DLC", "DataLength", "DataBytes", "Dir", "EDL", "BRS", "ESI"];
      expect(groups).toEqual({
        version: "4.10",
        groups: [
          [5, 2, ["time", ...members("CAN_DataFrame", full)]],
          [1, 2, ["time", ...members("CAN_ErrorFrame", full)]],
          [1, 2, ["time", ...members("CAN_RemoteFrame", ["BusChannel", "ID", "IDE", "DLC", "DataLength", "Dir"])]],
        ],
      });
      const py = pythonReads(path);
      const expected = (await readAll(path)).map(asPython);
      expect(expected).toHaveLength(7);
      // python-can's timestamps are floats of Unix seconds: compared to the microsecond
      const drift = py.map((m, i) => Math.abs(m.timestamp * 1e6 - Number(expected[i]!.ts) / 1e3));
      expect(
        drift.every((us) => us <= 1),
        drift.join(" "),
      ).toBe(true);
      expect(py.map(({ timestamp: _, ...rest }) => rest)).toEqual(expected.map(({ ts: _, ...rest }) => rest));
    },
  );

  it("a µs file's times read as exact µs in python-can's MF4Reader and asammdf", async () => {
    const path = join(dir, "to-python-us.mf4");
    const out = LogWriter.create(path, { mf4TimeResolution: "us" });
    await out.write(US_FRAMES);
    await out.close();
    const wantUs = US_FRAMES.map((f) => Number(atMicroseconds(f.timestampNs!) / 1000n));
    const py = pythonReads(path);
    expect(py.map((m) => m.timestamp * 1e6 - Math.round(m.timestamp * 1e6)).every((d) => Math.abs(d) < 0.01)).toBe(true);
    expect(py.map((m) => Math.round(m.timestamp * 1e6))).toEqual(wantUs);
    const asammdf = runPythonCan(
      `from datetime import datetime, timedelta, timezone
from asammdf import MDF
m = MDF(data["path"])
start = m.header.start_time
epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
groups = []
for g in range(len(m.groups)):
    time = m.groups[g].channels[0]
    raw = m.get("time", g, raw=True).samples
    seconds = m.get_master(g)
    groups.append(dict(a=time.conversion.a, b=time.conversion.b, raw=[int(x) for x in raw],
                       exact=bool(all(round(s * 1e6) == r and abs(s * 1e6 - r) < 1e-3 for s, r in zip(seconds, raw)))))
result = dict(start_us=(start - epoch) // timedelta(microseconds=1), groups=groups)
m.close()`,
      { path },
    ) as { start_us: number; groups: { a: number; b: number; raw: number[]; exact: boolean }[] };
    expect(asammdf.start_us).toBe(Number(START / 1000n));
    const rel = (indexes: number[]) => indexes.map((i) => wantUs[i]! - asammdf.start_us);
    expect(asammdf.groups).toEqual([
      { a: 1e-6, b: 0, raw: rel([0, 1, 4, 5, 6, 7, 8, 9, 10]), exact: true },
      { a: 1e-6, b: 0, raw: rel([3]), exact: true },
      { a: 1e-6, b: 0, raw: rel([2]), exact: true },
    ]);
  });

  it.each([0, 1, 2])("reads python-can's MF4Writer output (level %i) exactly", async (level) => {
    const messages = [
      { timestamp: 1765000000.25, arbitration_id: 0x123, is_extended_id: false, data: [0xde, 0xad], channel: 0 },
      {
        timestamp: 1765000000.5,
        arbitration_id: 0x18daf110,
        is_extended_id: true,
        data: [1, 2, 3, 4, 5, 6, 7, 8],
        channel: 1,
        is_rx: false,
      },
      { timestamp: 1765000001, arbitration_id: 0x7ff, is_extended_id: false, is_remote_frame: true, dlc: 5, channel: 2 },
      { timestamp: 1765000001.25, arbitration_id: 0x4, is_error_frame: true, data: [0, 4, 0, 0, 0, 0, 0, 0], channel: 0 },
      {
        timestamp: 1765000002,
        arbitration_id: 0x42,
        is_extended_id: false,
        is_fd: true,
        bitrate_switch: true,
        error_state_indicator: true,
        data: Array.from({ length: 64 }, (_, i) => i),
        channel: 3,
      },
    ];
    const path = join(dir, `from-python-${level}.mf4`);
    pythonWrites(path, messages, level);
    const frames = (await readAll(path)).map(asPython);
    const py = pythonReads(path);
    expect(frames.map((m) => ({ ...m, ts: Math.round(Number(m.ts) / 1e3) }))).toEqual(
      py.map(({ timestamp, ...rest }) => ({ ts: Math.round(timestamp * 1e6), ...rest })),
    );
    expect(frames.map((m) => [m.arbitration_id, m.is_error_frame, m.is_remote_frame, m.dlc, m.channel])).toEqual([
      [0x123, false, false, 2, 0],
      [0x18daf110, false, false, 8, 1],
      [0x7ff, false, true, 5, 2],
      [0x4, true, false, 8, 0],
      [0x42, false, false, 64, 3],
    ]);
    expect(frames.map((m) => Math.round(Number(m.ts) / 1e3))).toEqual(messages.map((m) => Math.round(m.timestamp * 1e6)));
  });

  it("reads a large asammdf-compressed file (transposed DZ blocks behind HL and DL) exactly", async () => {
    const path = join(dir, "asammdf-big.mf4");
    asammdfWrites(path, 2);
    const bytes = readFileSync(path);
    const count = (id: string) => bytes.toString("latin1").split(id).length - 1;
    expect([count("##HL"), count("##DL") >= 1, count("##DZ") >= 2]).toEqual([1, true, true]);
    const frames = await readAll(path);
    expect(frames).toHaveLength(60000);
    frames.forEach((m, i) => {
      if (m.id !== i % 2048 || Number(m.channel) !== i % 4 || u32(m.data) !== i) throw new Error(`frame ${i} is ${String(m)}`);
    });
    expect(frames[0]!.timestampNs).toBe(1765000000000000000n);
    expect(frames[59999]!.timestampNs).toBe(1765000059999000000n);
  });

  it("a cut canwire file gives every frame before the cut, then ERR_TRUNCATED_FILE", async () => {
    const path = join(dir, "cut.mf4");
    const out = LogWriter.create(path, { flushIntervalMs: 0, mf4Compression: 1 });
    const batch = (from: number) => Array.from({ length: 500 }, (_, i) => ({ id: (from + i) % 0x800, data: [i & 0xff] }));
    await out.write(batch(0));
    await out.flush();
    await out.write(batch(500));
    await out.close();
    const whole = readFileSync(path);
    writeFileSync(path, whole.subarray(0, whole.length - 200));
    const seen: number[] = [];
    const reader = LogReader.open(path);
    await expect(
      (async () => {
        for await (const m of reader) seen.push(m.id);
      })(),
    ).rejects.toMatchObject({ code: "ERR_TRUNCATED_FILE", message: expect.stringMatching(/MF4: at byte offset \d+/) });
    expect(seen).toEqual(batch(0).map((m) => m.id));
  });

  it("a damaged block of an asammdf file gives the frames before it, then ERR_CORRUPT_FILE naming the block", async () => {
    const path = join(dir, "damaged.mf4");
    asammdfWrites(path, 1);
    const bytes = readFileSync(path);
    const second = bytes.indexOf("##DZ", bytes.indexOf("##DZ") + 4);
    bytes.fill(0x55, second + 48, second + 64);
    writeFileSync(path, bytes);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const m of LogReader.open(path)) seen.push(u32(m.data));
      })(),
    ).rejects.toMatchObject({
      code: "ERR_CORRUPT_FILE",
      message: expect.stringContaining(`MF4: at byte offset ${second}: the ##DZ block`),
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i));
  });

  it("canwire convert writes .mf4 (at python-can's levels) and reads it back", async () => {
    const blf = join(dir, "conv.blf");
    const out = LogWriter.create(blf);
    await out.write(FRAMES.slice(0, 3));
    await out.close();
    const mf4 = join(dir, "conv.mf4");
    const converted = await runCli(["convert", blf, mf4, "--level", "1"]);
    expect(converted.code, converted.stderr).toBe(0);
    expect(pythonReads(mf4).map((m) => [m.arbitration_id, m.is_remote_frame, m.data])).toEqual([
      [0x123, false, [0xde, 0xad, 0xbe]],
      [0x1abcdef0, false, [1, 2, 3, 4, 5, 6, 7, 8]],
      [0x7ff, true, []],
    ]);
    const bad = await runCli(["convert", blf, mf4, "--level", "5"]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("--level is 0..2")]);
    const us = join(dir, "conv-us.mf4");
    const atUs = await runCli(["convert", blf, us, "--mf4-time-resolution", "us"]);
    expect(atUs.code, atUs.stderr).toBe(0);
    expect((await readAll(us)).map((m) => m.timestampNs)).toEqual(FRAMES.slice(0, 3).map((f) => atMicroseconds(f.timestampNs!)));
    const badUs = await runCli(["convert", blf, us, "--mf4-time-resolution", "ms"]);
    expect([badUs.code, badUs.stderr]).toEqual([2, expect.stringContaining("--mf4-time-resolution is ns or us, got 'ms'")]);
    const back = join(dir, "back.asc");
    const stats = await convertLog(mf4, back);
    expect(stats.frames).toBe(3);
    const dumped = await runCli(["dump", mf4]);
    expect(dumped.code, dumped.stderr).toBe(0);
    expect(dumped.stdout).toContain("123#DEADBE");
  });

  it("a Logger writes a bus to .mf4 that python-can reads", async () => {
    const channel = uniqueChannel("mf4");
    await using tx = await Bus.open({ channel });
    await using rx = await Bus.open({ channel });
    const path = join(dir, "logged.mf4");
    const logger = Logger.start(rx, path);
    const sent = Array.from({ length: 2000 }, (_, i) => ({ id: i % 0x800, extended: i % 3 === 0, data: [i & 0xff, i >> 8] }));
    await tx.sendBatch(sent);
    await new Promise((r) => setTimeout(r, 50));
    expect(await logger.stop()).toEqual({ frames: 2000, files: [path], dropped: 0 });
    const py = pythonReads(path);
    expect(py.map((m) => [m.arbitration_id, m.is_extended_id, m.data])).toEqual(sent.map((m) => [m.id, m.extended, m.data]));
  });
});
