import { describe, expect, it, vi } from "vitest";
import { dump } from "../src/cli/dump.js";
import { gen } from "../src/cli/gen.js";
import { send } from "../src/cli/send.js";
import { Bus, formatFrame } from "../src/index.js";
import { fixturesDir, recvN, runCli, uniqueChannel } from "./helpers.js";

describe("canwire send", () => {
  it("sends every frame syntax exactly", async () => {
    const channel = uniqueChannel();
    await using rx = await Bus.open({ channel, fd: true });
    const frames = [
      "123#DEADBEEF",
      "1F334455#11",
      "123#R",
      "123#R3",
      "123##1DEADBEEF",
      `7FF##3${"AB".repeat(64)}`,
      "001#1122334455667788_C",
    ];
    expect(await send(["-c", channel, ...frames])).toBe(0);
    const got = await recvN(rx, frames.length);
    expect(got.map(formatFrame)).toEqual(frames);
    expect([got[1]!.extended, got[2]!.remote, got[3]!.dlc, got[4]!.bitrateSwitch, got[5]!.errorStateIndicator, got[6]!.dlcCode]).toEqual([
      true,
      true,
      3,
      true,
      true,
      12,
    ]);
  });
});

describe("canwire send --period-ms", () => {
  it("sends frames cyclically until the count", async () => {
    const channel = uniqueChannel();
    await using rx = await Bus.open({ channel });
    const errors: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(line));
    try {
      expect(await send(["-c", channel, "--period-ms", "10", "--count", "5", "123#01", "124#02"])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect((await recvN(rx, 5)).map(formatFrame)).toEqual(["123#01", "124#02", "123#01", "124#02", "123#01"]);
    expect(errors).toEqual([expect.stringMatching(/^sent 5, missed 0, send errors 0$/)]);
    await expect(send(["-c", channel, "--count", "5", "123#01"])).rejects.toThrow(/need --period-ms/);
  });
});

describe("canwire dump", () => {
  it("prints candump -L lines, applies filters and stops after -n", async () => {
    const channel = uniqueChannel();
    await using tx = await Bus.open({ channel, preserveTimestamps: true });
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const done = dump(["-c", channel, "-n", "3", "--filter", "100:700", "--filter", "18DAF110:1FFFFFFF"]);
      await new Promise((r) => setTimeout(r, 20));
      await tx.sendBatch([
        { id: 0x123, data: [0xde, 0xad, 0xbe, 0xef], timestampNs: 1_699_999_999_123_456_789n },
        { id: 0x223, data: [1], timestampNs: 1_699_999_999_200_000_000n },
        { id: 0x18daf110, extended: true, data: [0x11], timestampNs: 1_699_999_999_300_000_000n },
        { id: 0x1ff, remote: true, dlc: 2, timestampNs: 1_700_000_000_000_001_000n },
        { id: 0x100, data: [], timestampNs: 1n },
      ]);
      expect(await done).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(written.join("")).toBe(
      `(1699999999.123456) ${channel} 123#DEADBEEF\n` +
        `(1699999999.300000) ${channel} 18DAF110#11\n` +
        `(1700000000.000001) ${channel} 1FF#R2\n`,
    );
  });

  it("exits 0 after --timeout-ms without traffic", async () => {
    const spy = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await dump(["-c", uniqueChannel(), "--timeout-ms", "30"])).toBe(0);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe("canwire gen", () => {
  it("sends COUNT frames with a fixed id and length", async () => {
    const channel = uniqueChannel();
    await using rx = await Bus.open({ channel, fd: true });
    expect(await gen(["-c", channel, "-n", "2500", "-g", "0", "-I", "123", "-L", "4"])).toBe(0);
    const got = await recvN(rx, 2500);
    expect(got.every((m) => m.id === 0x123 && m.dlc === 4 && !m.fd)).toBe(true);
    expect(await rx.recv({ timeoutMs: 20 })).toBeNull();
    expect(await gen(["-c", channel, "-n", "3", "-g", "1", "--fd", "-b", "-e", "-L", "64"])).toBe(0);
    const fd = await recvN(rx, 3);
    expect(fd.every((m) => m.fd && m.bitrateSwitch && m.extended && m.dlc === 64)).toBe(true);
  });

  it("rejects an FD length on a classic bus", async () => {
    await expect(gen(["-c", uniqueChannel(), "-n", "1", "-L", "12"])).rejects.toMatchObject({ code: "ERR_DATA_TOO_LONG" });
  });
});

describe("the canwire command", () => {
  it("prints help for every command with exit 0", async () => {
    for (const args of [["--help"], ["send", "--help"], ["dump", "-h"], ["gen", "--help"], ["demo", "--help"]]) {
      const { code, stdout } = await runCli(args);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^usage: canwire/);
    }
  });

  it("exits 2 on usage errors with the usage text", async () => {
    for (const args of [
      [],
      ["bogus"],
      ["send"],
      ["send", "--nope", "123#00"],
      ["dump", "--filter", "xyz"],
      ["gen", "-g", "-5"],
      ["dump", "-i", "pcan"],
    ]) {
      const { code, stderr, stdout } = await runCli(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr + stdout).toMatch(/usage: canwire/);
    }
  });

  it("exits 1 with the error code on CAN errors", async () => {
    let r = await runCli(["send", "123DEAD"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^canwire send: ERR_INVALID_FRAME_SYNTAX: '123DEAD' is not a frame/);
    r = await runCli(["send", "800#00"]);
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/ERR_ID_OUT_OF_RANGE/)]);
    r = await runCli(["send", "123#00112233445566778899"]);
    expect(r.stderr).toMatch(/ERR_DATA_TOO_LONG/);
  });

  it("demo runs a job and accounts for every frame", async () => {
    const { code, stdout, stderr } = await runCli(["demo", "-n", "20000", "--json"]);
    expect(code, `demo output:\n${stdout}\n${stderr}`).toBe(0);
    const figures = JSON.parse(stdout);
    expect(figures.accounted).toBe(true);
    expect(figures.forAwaitReader.received).toBe(20000);
    expect(figures.batchReader.received).toBe(20000);
    expect(figures.slowReader.received + figures.slowReader.dropped).toBe(20000);
    expect(figures.bus.rxFrames).toBe(20000);
    expect(figures.blf.frames).toBe(20000);
    // 4095 bytes = FF (6) + 585 CFs (7 each) per direction; the ECU (block size 0) sends 1 FC,
    // the tester (default block size 8) 1 + floor(584 / 8) = 74.
    expect(figures.isoTp).toMatchObject({ bytes: 8190, ok: true, framesOnWire: 2 * (1 + 585) + 1 + 74 });
    // 50 heartbeats round-robin on the native scheduler, every one received in order
    expect(figures.cyclic).toMatchObject({ sent: 50, received: 50, inOrder: true, periodMs: 10 });
  });
});

describe("canwire isotp", () => {
  it("send and recv move hex payloads over ISO-TP", async () => {
    const { isotp } = await import("../src/cli/isotp.js");
    const channel = uniqueChannel();
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const receiving = isotp(["recv", "-c", channel, "--txid", "7E8", "--rxid", "7E0", "-n", "2", "--timeout-ms", "5000"]);
      await new Promise((r) => setTimeout(r, 30));
      const long = "AB".repeat(100);
      expect(await isotp(["send", "-c", channel, "--txid", "7E0", "--rxid", "7E8", "-p", "CC", "22 F1 90", long])).toBe(0);
      expect(await receiving).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(written.join("")).toBe(`22 F1 90\n${Array(100).fill("AB").join(" ")}\n`);
  });

  it("send fails with the ISO-TP error code when nobody answers", async () => {
    const r = await runCli(["isotp", "send", "--txid", "123", "--rxid", "124", "00112233445566778899"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_ISOTP_N_BS_TIMEOUT/);
    const u = await runCli(["isotp", "send", "--txid", "123", "--rxid", "124", "0"]);
    expect(u.code).toBe(2);
    expect((await runCli(["isotp", "--help"])).stdout).toMatch(/^usage: canwire isotp send/);
  });
});

const fixtures = fixturesDir() ?? "";

describe.skipIf(fixtures === "")("canwire dump FILE and canwire convert", () => {
  it("play replays a file and reports counts; refused frames exit 1", async () => {
    const ok = await runCli(["play", `${fixtures}test_CanMessage.asc`, "--ignore-timestamps", "--loop", "2"]);
    expect([ok.code, ok.stderr.trim()]).toEqual([0, "4 frames sent in 2 pass(es), 0 refused by the bus"]);
    const fd = await runCli(["play", `${fixtures}test_CanFdMessage.asc`, "--ignore-timestamps"]);
    expect([fd.code, fd.stderr.trim()]).toEqual([1, "0 frames sent in 1 pass(es), 3 refused by the bus"]);
    const withFd = await runCli(["play", `${fixtures}test_CanFdMessage.asc`, "--ignore-timestamps", "--fd"]);
    expect(withFd.code).toBe(0);
    expect((await runCli(["play"])).code).toBe(2);
  });

  it("dump prints a file's frames as candump -L lines", async () => {
    const r = await runCli(["dump", `${fixtures}test_CanFdMessage.asc`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "(1506784003.196021) 0 300##111C2030405060708\n(1506784003.196041) 1 1C4D80A7##212C2030405060708\n(1506784003.196071) 2 30A##30102030405060708\n",
    );
  });

  it("convert keeps the frames; dump of the result and of the source agree", async () => {
    const out = `${process.env.TMPDIR ?? "/tmp"}/canwire-cli-${process.pid}.blf`;
    const c = await runCli(["convert", `${fixtures}logfile.asc`, out]);
    expect([c.code, c.stderr.trim()]).toEqual([0, "20 frames converted, 11 records skipped, 0 lines unreadable"]);
    const a = await runCli(["dump", `${fixtures}logfile.asc`]);
    const b = await runCli(["dump", out, "-n", "5"]);
    expect(b.stdout).toBe(`${a.stdout.split("\n").slice(0, 5).join("\n")}\n`);
    const u = await runCli(["convert", `${fixtures}logfile.asc`]);
    expect(u.code).toBe(2);
    const missing = await runCli(["dump", "/nonexistent/x.blf"]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/ERR_OS: opening '\/nonexistent\/x\.blf': ENOENT/)]);
  });
});

describe("canwire dump FILE filters", () => {
  it("applies --filter and -n like live dump, error frames passing id filters", async () => {
    const path = `${process.env.TMPDIR ?? "/tmp"}/canwire-dumpfilter-${process.pid}.log`;
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      path,
      `${["(1.000000) can0 123#01", "(2.000000) can0 223#02", "(3.000000) can0 20000004#0000000000000000", "(4.000000) can0 124#03", "(5.000000) can0 125#04"].join("\n")}\n`,
    );
    const r = await runCli(["dump", path, "--filter", "120:7F0", "-n", "3"]);
    expect(r.stdout).toBe(
      "(0000000001.000000) can0 123#01\n(0000000003.000000) can0 20000004#0000000000000000\n(0000000004.000000) can0 124#03\n",
    );
  });
});
