// Controller options checked before any interface is touched (no kernel
// needed: a plan that passes reaches the interface lookup, which fails here
// with ERR_UNKNOWN_INTERFACE), and `canwire link`'s usage errors.
import { describe, expect, it } from "vitest";
import { BitTiming, BitTimingFd, Bus, type ConfigureInterfaceOptions } from "../src/index.js";
import { codeAndMessageOf, runCli, uniqueChannel } from "./helpers.js";

const NAME = "nosuch9";

describe("Bus.configureInterface: the plan is checked first", () => {
  const bt = BitTiming.fromBitrateAndSegments({ fClock: 8_000_000, bitrate: 500_000, tseg1: 13, tseg2: 2, sjw: 1 });
  it.each<[string, ConfigureInterfaceOptions, string, string]>([
    [
      "nothing to set",
      {},
      "ERR_INVALID_ARGUMENT",
      "the controller plan sets nothing: give bitrate, samplePoint, dataBitrate, dataSamplePoint, timing, fd, listenOnly, loopback, oneShot, tripleSampling, restartMs or termination",
    ],
    ["bit rate 0", { bitrate: 0 }, "ERR_INVALID_ARGUMENT", "bitrate must be 1..1000000 bit/s, got 0"],
    ["bit rate above 1 Mbit/s", { bitrate: 2_000_000 }, "ERR_INVALID_ARGUMENT", "bitrate must be 1..1000000 bit/s, got 2000000"],
    ["a fractional bit rate", { bitrate: 1.5 }, "ERR_INVALID_ARGUMENT", "bitrate must be an integer 0..=4294967295, got 1.5"],
    [
      "a sample point in percent",
      { bitrate: 500_000, samplePoint: 87.5 },
      "ERR_INVALID_ARGUMENT",
      "samplePoint must be a fraction above 0 and below 1 (0.875 is 87.5 %), got 87.5",
    ],
    ["a sample point without bit rate", { samplePoint: 0.8 }, "ERR_INVALID_ARGUMENT", "samplePoint needs bitrate"],
    [
      "fd on with one phase",
      { bitrate: 500_000, fd: true },
      "ERR_INVALID_ARGUMENT",
      "switching the controller's FD mode on needs both phases: bitrate (or timing) and dataBitrate (or an FD timing), as the kernel requires them in the same request",
    ],
    [
      "a data phase with fd off",
      { bitrate: 500_000, dataBitrate: 2_000_000, fd: false },
      "ERR_INVALID_ARGUMENT",
      "a data phase (dataBitrate or an FD timing) needs the controller's FD mode, but fd is false",
    ],
    [
      "data bit rate too high",
      { bitrate: 500_000, dataBitrate: 25_000_000 },
      "ERR_INVALID_ARGUMENT",
      "dataBitrate must be 1..20000000 bit/s, got 25000000",
    ],
    ["termination above u16", { termination: 70_000 }, "ERR_INVALID_ARGUMENT", "termination must be an integer 0..=65535, got 70000"],
    ["negative restart delay", { restartMs: -1 }, "ERR_INVALID_ARGUMENT", "restartMs must be an integer 0..=4294967295, got -1"],
    [
      "a timing that is not one",
      { timing: {} as BitTiming },
      "ERR_INVALID_ARGUMENT",
      "timing must be a BitTiming or a BitTimingFd (from canwire)",
    ],
    ["timing and bit rate", { timing: bt, bitrate: 500_000 }, "ERR_INVALID_ARGUMENT", "give bitrate or timing, not both"],
    [
      "timing and sample point",
      { timing: bt, samplePoint: 0.8 },
      "ERR_INVALID_ARGUMENT",
      "samplePoint goes with bitrate; timing fixes the sample point itself",
    ],
    [
      "a string bit rate",
      { bitrate: "500000" as unknown as number },
      "ERR_INVALID_ARGUMENT",
      "options.bitrate must be a number, got string",
    ],
  ])("%s", (_, options, code, message) => {
    expect(codeAndMessageOf(() => Bus.configureInterface(NAME, options))).toEqual([code, message]);
  });

  it("a valid plan gets as far as the interface lookup", () => {
    const fd = BitTimingFd.fromSamplePoint({
      fClock: 80_000_000,
      nomBitrate: 500_000,
      nomSamplePoint: 80,
      dataBitrate: 2_000_000,
      dataSamplePoint: 75,
    });
    for (const options of [
      { bitrate: 500_000, samplePoint: 0.875, listenOnly: true, restartMs: 100 },
      { bitrate: 500_000, dataBitrate: 2_000_000, dataSamplePoint: 0.75 },
      { timing: bt, oneShot: false },
      { timing: fd, termination: 120, leaveDown: true },
    ]) {
      const result = codeAndMessageOf(() => Bus.configureInterface(NAME, options));
      expect((result as string[])[0], JSON.stringify(result)).toBe(
        process.platform === "linux" ? "ERR_UNKNOWN_INTERFACE" : "ERR_UNSUPPORTED",
      );
    }
  });
});

describe("Bus.open with controller options", () => {
  it("refuses them for a bus without a controller, and keeps fd alone about the socket", async () => {
    await expect(Bus.open({ channel: uniqueChannel(), bitrate: 500_000 })).rejects.toMatchObject({
      code: "ERR_UNSUPPORTED",
      message: "bitrate: only a SocketCAN controller takes these settings; interface 'virtual' has none",
    });
    // a remote bus too, before any connection is tried
    await expect(
      Bus.open({ interface: "socketcand", channel: "vcan0", host: "127.0.0.1", port: 1, listenOnly: true }),
    ).rejects.toMatchObject({
      code: "ERR_UNSUPPORTED",
      message: "listenOnly: only a SocketCAN controller takes these settings; interface 'socketcand' has none",
    });
    await using bus = await Bus.open({ channel: uniqueChannel(), fd: true });
    expect(bus.protocol).toBe("CAN_FD");
  });
});

describe("canwire link: usage errors", () => {
  it.each([
    [["can0", "--bitrate", "5x"], "--bitrate must be a whole number, got '5x'"],
    [["can0", "--sample-point", "87.5"], "--sample-point must be a fraction above 0 and below 1 (0.875 is 87.5 %), got '87.5'"],
    [["can0", "--fd", "yes"], "--fd takes on or off, got 'yes'"],
    [["can0", "sideways"], "'sideways' is neither up nor down"],
    [["can0", "up", "now"], "unexpected 'now'"],
    [["--bitrate", "500000"], "settings need an IFACE"],
    [["can0", "--speed", "1"], "Unknown option '--speed'"],
  ])("%j", async (args, message) => {
    const { code, stdout, stderr } = await runCli(["link", ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.split("\n")[0]).toContain(`canwire link: ${message}`);
    expect(stderr).toContain("usage: canwire link [IFACE] [--json]");
  });

  it("--help prints the usage; an interface that does not exist is a failure", async () => {
    const help = await runCli(["link", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--restart-ms N         automatic restart N ms after bus-off (0: off)");
    const missing = await runCli(["link", NAME]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`canwire link: no CAN interface named '${NAME}'\n`);
    const plan = await runCli(["link", NAME, "--bitrate", "500000"]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(
      new RegExp(`^canwire link: ${process.platform === "linux" ? "ERR_UNKNOWN_INTERFACE" : "ERR_UNSUPPORTED"}: `),
    );
  });
});
