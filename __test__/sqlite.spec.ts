/**
 * SQLite logs (`.db`) against python-can 4.6's SqliteWriter and SqliteReader
 * in the peers' venv: the same table both ways, exact frames, what the layout
 * loses (FD flags, channel, direction), batches across flushes, and a killed
 * writer that keeps exactly what it flushed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Bus, Logger, LogReader, LogWriter, type Message, type MessageInit, Player } from "../src/index.js";
import { recvN, runCli, uniqueChannel } from "./helpers.js";
import { skipWithoutPythonPeers } from "./peers/index.js";
import { pythonCanReads, pythonCanWrites, runPythonCan } from "./python-can.js";

const dir = mkdtempSync(join(tmpdir(), "canwire-sqlite-"));

/** The fields python-can's layout holds, plus those canwire reads back (fd, brs, channel, isRx). */
function fields(m: Message) {
  return {
    ts: m.timestampNs,
    id: m.id,
    extended: m.extended,
    remote: m.remote,
    error: m.error,
    fd: m.fd,
    brs: m.bitrateSwitch,
    dlc: m.dlc,
    data: Array.from(m.data),
    channel: m.channel,
    isRx: m.isRx,
  };
}

async function readAll(path: string, sqliteTable?: string): Promise<Message[]> {
  const out: Message[] = [];
  for await (const m of LogReader.open(path, sqliteTable === undefined ? undefined : { sqliteTable })) out.push(m);
  return out;
}

/** python-can's SqliteWriter writing `messages` (python-can Message keyword arguments). */
const pythonWrites = (path: string, messages: object[], table = "messages") =>
  pythonCanWrites("SqliteWriter", path, messages, { table_name: table });

/** What python-can's SqliteReader reads from `path`. */
const pythonReads = (path: string, table = "messages") => pythonCanReads("SqliteReader", path, { table_name: table });

describe.skipIf(skipWithoutPythonPeers())("SQLite logs against python-can 4.6", () => {
  it("reads python-can's SqliteWriter output with exact frames; FD flags are not in the table", async () => {
    const path = join(dir, "from-python.db");
    pythonWrites(path, [
      { timestamp: 1765000000.123456, arbitration_id: 0x123, is_extended_id: false, data: [0xde, 0xad, 0xbe, 0xef] },
      { timestamp: 1765000000.5, arbitration_id: 0x18daf110, is_extended_id: true, data: [1, 2, 3, 4, 5, 6, 7, 8] },
      { timestamp: 1765000001, arbitration_id: 0x7ff, is_extended_id: false, is_remote_frame: true, dlc: 5 },
      { timestamp: 1765000001.25, arbitration_id: 0x4, is_error_frame: true, data: [0, 4, 0, 0, 0, 0, 0, 0] },
      {
        timestamp: 1765000002,
        arbitration_id: 0x42,
        is_extended_id: false,
        is_fd: true,
        bitrate_switch: true,
        data: Array.from({ length: 64 }, (_, i) => i),
      },
      { timestamp: 1765000003, arbitration_id: 0x43, is_extended_id: false, is_fd: true, bitrate_switch: true, data: [9, 9] },
    ]);
    const frames = await readAll(path);
    const base = { remote: false, error: false, fd: false, brs: false, channel: "0", isRx: true };
    expect(frames.map(fields)).toEqual([
      { ...base, ts: 1765000000123456000n, id: 0x123, extended: false, dlc: 4, data: [0xde, 0xad, 0xbe, 0xef] },
      { ...base, ts: 1765000000500000000n, id: 0x18daf110, extended: true, dlc: 8, data: [1, 2, 3, 4, 5, 6, 7, 8] },
      { ...base, ts: 1765000001000000000n, id: 0x7ff, extended: false, remote: true, dlc: 5, data: [] },
      { ...base, ts: 1765000001250000000n, id: 0x4, extended: true, error: true, dlc: 8, data: [0, 4, 0, 0, 0, 0, 0, 0] },
      // 64 bytes can only be FD; the bit rate switch is not in the table
      { ...base, ts: 1765000002000000000n, id: 0x42, extended: false, fd: true, dlc: 64, data: Array.from({ length: 64 }, (_, i) => i) },
      // an FD frame of 2 bytes cannot be told from a classic one
      { ...base, ts: 1765000003000000000n, id: 0x43, extended: false, dlc: 2, data: [9, 9] },
    ]);
    expect(LogReader.open(path).format).toBe("db");
  });

  it("writes what python-can's SqliteReader reads back exactly, in python-can's schema", async () => {
    const path = join(dir, "to-python.db");
    const frames: MessageInit[] = [
      { timestampNs: 1765000000123456000n, id: 0x123, data: [0xde, 0xad] },
      { timestampNs: 1765000000500000000n, id: 0x1abcdef0, extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8] },
      { timestampNs: 1765000001000000000n, id: 0x7ff, remote: true, dlc: 3 },
      { timestampNs: 1765000001250000000n, id: 0x4, extended: true, error: true, data: [0, 4, 0, 0, 0, 0, 0, 0] },
      { timestampNs: 1765000002000000000n, id: 0x42, fd: true, bitrateSwitch: true, data: Array.from({ length: 12 }, (_, i) => 0xa0 + i) },
    ];
    const out = LogWriter.create(path);
    expect(out.format).toBe("db");
    await out.write(frames);
    await out.close();
    // the table has no channel, direction, bit rate switch or error state
    const py = {
      is_extended_id: false,
      is_remote_frame: false,
      is_error_frame: false,
      is_fd: false,
      bitrate_switch: false,
      error_state_indicator: false,
      channel: null,
      is_rx: true,
    };
    expect(pythonReads(path)).toEqual([
      { ...py, timestamp: 1765000000.123456, arbitration_id: 0x123, dlc: 2, data: [0xde, 0xad] },
      { ...py, timestamp: 1765000000.5, arbitration_id: 0x1abcdef0, is_extended_id: true, dlc: 8, data: [1, 2, 3, 4, 5, 6, 7, 8] },
      { ...py, timestamp: 1765000001, arbitration_id: 0x7ff, is_remote_frame: true, dlc: 3, data: [] },
      {
        ...py,
        timestamp: 1765000001.25,
        arbitration_id: 0x4,
        is_extended_id: true,
        is_error_frame: true,
        dlc: 8,
        data: [0, 4, 0, 0, 0, 0, 0, 0],
      },
      // python-can's reader builds no FD message from the table: the length is the dlc
      { ...py, timestamp: 1765000002, arbitration_id: 0x42, dlc: 12, data: Array.from({ length: 12 }, (_, i) => 0xa0 + i) },
    ]);
    const schema = (file: string) =>
      runPythonCan(
        `import sqlite3
c = sqlite3.connect(data["path"])
result = [[r[1], r[2]] for r in c.execute("PRAGMA table_info(messages)")]`,
        { path: file },
      );
    const reference = join(dir, "reference.db");
    pythonWrites(reference, [{ arbitration_id: 1 }]);
    expect(schema(path)).toEqual(schema(reference));
    expect(schema(path)).toEqual([
      ["ts", "REAL"],
      ["arbitration_id", "INTEGER"],
      ["extended", "INTEGER"],
      ["remote", "INTEGER"],
      ["error", "INTEGER"],
      ["dlc", "INTEGER"],
      ["data", "BLOB"],
    ]);
  });

  it("uses python-can's table name option both ways", async () => {
    const path = join(dir, "tables.db");
    pythonWrites(path, [{ timestamp: 1, arbitration_id: 0x10, data: [1] }], "run_a");
    const out = LogWriter.create(path, { append: true, sqliteTable: "run_b" });
    await out.write([{ timestampNs: 2_000_000_000n, id: 0x20, data: [2] }]);
    await out.close();
    expect((await readAll(path, "run_a")).map((m) => m.id)).toEqual([0x10]);
    expect(pythonReads(path, "run_b").map((m) => [m.timestamp, m.arbitration_id, m.data])).toEqual([[2, 0x20, [2]]]);
    expect(() => LogReader.open(path, { sqliteTable: "messages" })).toThrow(
      expect.objectContaining({ code: "ERR_CORRUPT_FILE", message: expect.stringContaining("has no table 'messages'") }),
    );
    expect(() => LogWriter.create(path, { sqliteTable: "x; DROP TABLE run_a" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("'x; DROP TABLE run_a' is not allowed") }),
    );
    expect(() => LogReader.open(join(dir, "x.blf"), { sqliteTable: "t" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("SQLite logs (.db) only") }),
    );
  });

  it("commits a batch per flush: python-can sees each flushed batch, nothing in between", async () => {
    const path = join(dir, "batches.db");
    const out = LogWriter.create(path, { flushIntervalMs: 0 });
    const batch = (from: number) => Array.from({ length: 100 }, (_, i) => ({ id: from + i, data: [i & 0xff] }));
    await out.write(batch(0));
    expect(pythonReads(path)).toEqual([]);
    await out.flush();
    expect(pythonReads(path).map((m) => m.arbitration_id)).toEqual(batch(0).map((m) => m.id));
    await out.write(batch(100));
    await out.write(batch(200));
    expect(pythonReads(path)).toHaveLength(100);
    await out.flush();
    expect(pythonReads(path).map((m) => m.arbitration_id)).toEqual([...batch(0), ...batch(100), ...batch(200)].map((m) => m.id));
    await out.close();
  });

  it("a writer killed between flushes leaves exactly the flushed frames", async () => {
    const path = join(dir, "killed.db");
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
    const ids = (await readAll(path)).map((m) => m.id);
    expect(ids).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(pythonReads(path)).toHaveLength(300);
  });

  it("canwire convert and dump handle .db by its suffix", async () => {
    const blf = join(dir, "conv.blf");
    const out = LogWriter.create(blf);
    await out.write([
      { timestampNs: 1765000000000001000n, id: 0x321, data: [0xaa, 0xbb] },
      { timestampNs: 1765000000000002000n, id: 0x12345, extended: true, data: [] },
    ]);
    await out.close();
    const db = join(dir, "conv.db");
    const converted = await runCli(["convert", blf, db]);
    expect(converted.code, converted.stderr).toBe(0);
    expect(pythonReads(db).map((m) => [m.timestamp, m.arbitration_id, m.is_extended_id, m.data])).toEqual([
      [1765000000.000001, 0x321, false, [0xaa, 0xbb]],
      [1765000000.000002, 0x12345, true, []],
    ]);
    const dumped = await runCli(["dump", db]);
    expect(dumped.code, dumped.stderr).toBe(0);
    expect(dumped.stdout).toContain("321#AABB");
    expect(dumped.stdout).toContain("00012345#");
  });
});

describe("Logger and Player with .db", () => {
  it("a Logger writes a bus's frames to .db and a Player sends them back", async () => {
    const channel = uniqueChannel("sq");
    await using tx = await Bus.open({ channel });
    await using rx = await Bus.open({ channel });
    const path = join(dir, "logged.db");
    const logger = Logger.start(rx, path);
    const sent = Array.from({ length: 2000 }, (_, i) => ({ id: i % 0x800, extended: i % 3 === 0, data: [i & 0xff, i >> 8] }));
    await tx.sendBatch(sent);
    await new Promise((r) => setTimeout(r, 50));
    expect(await logger.stop()).toEqual({ frames: 2000, files: [path], dropped: 0 });
    const logged = await readAll(path);
    expect(logged.map((m) => [m.id, m.extended, Array.from(m.data)])).toEqual(sent.map((m) => [m.id, m.extended, m.data]));

    const player = Player.start(tx, path, { ignoreTimestamps: true, gapMs: 0 });
    const replayed = await recvN(rx, 2000, 10_000);
    await player.stop();
    expect(replayed.map((m) => [m.id, m.extended, Array.from(m.data)])).toEqual(sent.map((m) => [m.id, m.extended, m.data]));
  });
});
