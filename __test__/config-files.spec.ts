import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { send } from "../src/cli/send.js";
import { Bus, type CanError, formatFrame, loadCanConfig } from "../src/index.js";
import { recvN, uniqueChannel } from "./helpers.js";
import { peerEnvironment, skipWithoutPythonPeers } from "./peers/index.js";
import { runPythonCan } from "./python-can.js";

/** A home folder and an `/etc` stand-in with python-can's four configuration files, and the environment. */
interface Scenario {
  name: string;
  env?: Record<string, string>;
  /** Contents of ~/can.conf, <etc>/can.conf, ~/.can, ~/.canrc. */
  files?: { canConf?: string; etcCanConf?: string; dotCan?: string; dotCanrc?: string };
  context?: string;
}

const scratch = mkdtempSync(join(tmpdir(), "canwire-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let scenarioCount = 0;

/** Writes a scenario's files; the file list as python-can's CONFIG_FILES with /etc moved into the scratch folder. */
function lay(scenario: Scenario): { home: string; files: string[] } {
  const root = join(scratch, `s${++scenarioCount}`);
  const home = join(root, "home");
  const etc = join(root, "etc");
  mkdirSync(home, { recursive: true });
  mkdirSync(etc, { recursive: true });
  const { canConf, etcCanConf, dotCan, dotCanrc } = scenario.files ?? {};
  if (canConf !== undefined) writeFileSync(join(home, "can.conf"), canConf);
  if (etcCanConf !== undefined) writeFileSync(join(etc, "can.conf"), etcCanConf);
  if (dotCan !== undefined) writeFileSync(join(home, ".can"), dotCan);
  if (dotCanrc !== undefined) writeFileSync(join(home, ".canrc"), dotCanrc);
  return { home, files: ["~/can.conf", join(etc, "can.conf"), "~/.can", "~/.canrc"] };
}

/** The environment of a scenario: nothing of the caller's CAN_* variables. */
function scenarioEnv(scenario: Scenario, home: string): Record<string, string> {
  const base = Object.fromEntries(Object.entries(peerEnvironment()).filter(([key]) => !key.startsWith("CAN_"))) as Record<string, string>;
  return { ...base, HOME: home, ...scenario.env };
}

type Outcome = { config: Record<string, unknown> } | { error: string };

/** canwire's loadCanConfig, shaped as python-can's result: interface and channel always there (null when unset). */
function canwireConfig(scenario: Scenario): Outcome {
  const { home, files } = lay(scenario);
  try {
    const entries = loadCanConfig({ env: scenarioEnv(scenario, home), files, context: scenario.context });
    const config: Record<string, unknown> = { interface: null, channel: null };
    for (const [key, entry] of entries) config[key] = entry.value;
    return { config };
  } catch (error) {
    return { error: (error as CanError).code };
  }
}

/** python-can 4.6's `can.util.load_config(context=...)` for the same files and environment. */
function pythonConfig(scenario: Scenario): Outcome {
  const { home, files } = lay(scenario);
  const code = `import can, can.util
can.util.CONFIG_FILES = data["files"]
try:
    result = {"config": dict(can.util.load_config(context=data["context"]))}
except Exception as e:
    result = {"error": type(e).__name__ + ": " + str(e)}`;
  return runPythonCan(code, { files, context: scenario.context ?? null }, scenarioEnv(scenario, home)) as Outcome;
}

const scenarios: Scenario[] = [
  { name: "the three variables", env: { CAN_INTERFACE: "socketcan", CAN_CHANNEL: "vcan0", CAN_BITRATE: "500000" } },
  {
    name: "CAN_CONFIG under the variables, values cast",
    env: {
      CAN_INTERFACE: "virtual",
      CAN_CHANNEL: "vcan1",
      CAN_CONFIG:
        '{"interface": "socketcan", "channel": "0", "receive_own_messages": true, "fd": "true", "data_bitrate": 2000000, "x": "1.5"}',
    },
  },
  {
    name: "an empty variable counts as unset",
    env: { CAN_INTERFACE: "virtual", CAN_CHANNEL: "" },
    files: { canConf: "[default]\nchannel = from-file\n" },
  },
  {
    name: "files merged in python-can's order (/etc/can.conf over ~/can.conf, ~/.canrc last), [DEFAULT] under every section",
    files: {
      canConf: "[default]\ninterface = socketcan\nchannel = can0\nbitrate = 250000\n",
      etcCanConf: "[DEFAULT]\nreceive_own_messages = True\n[default]\nbitrate = 500000\n",
      dotCanrc: "[default]\nlocal_loopback: false\n",
    },
  },
  {
    name: "a context: its variables, then the plain ones, then its section, then [default]",
    context: "rig",
    env: { CAN_CHANNEL_rig: "can7", CAN_BITRATE: "125000" },
    files: {
      canConf: "[default]\ninterface = virtual\nchannel = can0\nbitrate = 1000000\nfd = 0\n[rig]\ninterface = socketcan\nfd = True\n",
    },
  },
  { name: "a context nothing defines falls back to [default]", context: "absent", files: { canConf: "[default]\ninterface = virtual\n" } },
  { name: "legacy bustype", files: { canConf: "[default]\nbustype = socketcan\nchannel = vcan0\n" } },
  {
    name: "configparser syntax: comments, ':' delimiter, continuation lines, interpolation",
    files: {
      canConf: [
        "# a comment",
        "; another",
        "[default]",
        "interface=virtual",
        "  ",
        "name : my bus   ",
        "note = first line",
        "   second line",
        "",
        "   after a blank",
        "# not part of it",
        "base = vcan",
        "channel = %(base)s3",
        "percent = 100%%",
        "inline = 500000 # kbit/s is part of the value",
        "  [indented] = continues inline",
        "",
      ].join("\n"),
    },
  },
  {
    name: "text cast as python-can casts it",
    env: { CAN_INTERFACE: "virtual" },
    files: {
      canConf:
        "[default]\na = -7\nb = +7\nc = 007\nd = .5\ne = 1.5e3\nf = 1e3\ng = 2.0E3\nh = 1.\ni = TRUE\nj = fAlSe\nk = 0x10\nl = yes\nfd = yes\nport = 29536\n",
    },
  },
  { name: "CAN_CONFIG that is not JSON", env: { CAN_INTERFACE: "virtual", CAN_CONFIG: "{bad" } },
  { name: "an option before any section", env: { CAN_INTERFACE: "virtual" }, files: { canConf: "channel = x\n[default]\n" } },
  { name: "a line that is not name = value", env: { CAN_INTERFACE: "virtual" }, files: { canConf: "[default]\nchannel\n" } },
  { name: "a lone %", env: { CAN_INTERFACE: "virtual" }, files: { canConf: "[default]\nload = 50%\n" } },
  { name: "a reference to nothing", env: { CAN_INTERFACE: "virtual" }, files: { canConf: "[default]\nchannel = %(nope)s\n" } },
  { name: "a repeated option in one file", env: { CAN_INTERFACE: "virtual" }, files: { canConf: "[default]\na = 1\na = 2\n" } },
  { name: "a port that is not a number", env: { CAN_INTERFACE: "socketcand", CAN_CONFIG: '{"port": "http"}' } },
];

describe.skipIf(skipWithoutPythonPeers())("loadCanConfig, against python-can 4.6's can.util.load_config", () => {
  it.each(scenarios)("$name", (scenario) => {
    const ours = canwireConfig(scenario);
    const python = pythonConfig(scenario);
    if ("error" in python) {
      expect(ours, `python-can failed with ${python.error}`).toEqual({ error: "ERR_INVALID_ARGUMENT" });
    } else {
      expect(ours).toEqual(python);
    }
  });

  it("agrees with python-can on the values that matter, so the comparison is not vacuous", () => {
    const python = pythonConfig(scenarios[3]!);
    expect(python).toEqual({
      config: { interface: "socketcan", channel: "can0", bitrate: 500000, receive_own_messages: true, local_loopback: false },
    });
    expect(pythonConfig(scenarios[4]!)).toEqual({ config: { interface: "socketcan", channel: "can7", bitrate: 125000, fd: true } });
  });
});

/** The process's CAN_* variables and HOME during a test, restored after it. */
describe("Bus.open and the CLI with python-can's configuration", () => {
  let saved: NodeJS.ProcessEnv;
  let home: string;
  beforeEach(() => {
    saved = { ...process.env };
    for (const key of Object.keys(process.env)) if (key.startsWith("CAN_")) delete process.env[key];
    home = mkdtempSync(join(scratch, "home-"));
    process.env.HOME = home;
  });
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });
  const etcCanConf = existsSync("/etc/can.conf");

  it("opens the interface and channel the environment names; explicit options win; ignoreConfig ignores it", async () => {
    const channel = uniqueChannel("cfg");
    process.env.CAN_INTERFACE = "virtual";
    process.env.CAN_CHANNEL = channel;
    await using configured = await Bus.open();
    expect([configured.interface, configured.channel]).toEqual(["virtual", channel]);
    await using explicit = await Bus.open({ channel: "explicit-channel" });
    expect(explicit.channel).toBe("explicit-channel");
    await using ignoring = await Bus.open({ ignoreConfig: true });
    expect(ignoring.channel).toBe("channel-0");
    await using peer = await Bus.open({ channel, ignoreConfig: true });
    await peer.send({ id: 0x123, data: [1] });
    expect((await recvN(configured, 1)).map(formatFrame)).toEqual(["123#01"]);
  });

  it("applies CAN_CONFIG's python-can options: receive_own_messages and can_filters", async () => {
    const channel = uniqueChannel("cfg");
    process.env.CAN_CONFIG = JSON.stringify({
      interface: "virtual",
      channel,
      receive_own_messages: true,
      can_filters: [{ can_id: 0x123, can_mask: 0x7ff }],
    });
    await using bus = await Bus.open();
    await bus.send({ id: 0x124, data: [2] });
    await bus.send({ id: 0x123, data: [1] });
    const [own] = await recvN(bus, 1);
    expect([formatFrame(own!), own!.isRx]).toEqual(["123#01", false]);
    expect(await bus.recv({ timeoutMs: 50 })).toBeNull();
  });

  it.skipIf(etcCanConf)("reads ~/can.conf, and a configContext section over [default]", async () => {
    const a = uniqueChannel("cfg");
    const b = uniqueChannel("cfg");
    writeFileSync(join(home, "can.conf"), `[default]\ninterface = virtual\nchannel = ${a}\n\n[rig]\nchannel = ${b}\n`);
    await using plain = await Bus.open();
    await using rig = await Bus.open({ configContext: "rig" });
    expect([plain.channel, rig.channel]).toEqual([a, b]);
  });

  it.each([
    [{ CAN_BITRATE: "abc" }, undefined, 'CAN_BITRATE="abc" (environment): bitrate must be a positive integer in bit/s, e.g. 500000'],
    [{ CAN_CONFIG: '{"fd": "yes"}' }, undefined, 'CAN_CONFIG key "fd" = "yes" (environment): fd must be true or false (or 1, 0)'],
    [
      { CAN_CONFIG: '{"rxCoalesceUs": "soon"}' },
      undefined,
      'CAN_CONFIG key "rxCoalesceUs" = "soon" (environment): rxCoalesceUs must be a number',
    ],
    [{ CAN_CONFIG: "[1]" }, undefined, 'CAN_CONFIG="[1]" (environment) must be a JSON object of options'],
    [{}, "[default]\nbitrate = abc\n", '~/can.conf [default] bitrate = "abc": bitrate must be a positive integer in bit/s, e.g. 500000'],
    [
      {},
      "[default]\ncan_filters = 123:7FF\n",
      '~/can.conf [default] can_filters = "123:7FF": filters must be a JSON array of {"can_id", "can_mask", "extended"?} (set it in CAN_CONFIG)',
    ],
    [{}, "[default]\nchannel\n", "~/can.conf: lines that are not 'name = value': line 2: \"channel\""],
  ])("refuses a bad value %j %j naming its source", async (env, file, message) => {
    if (file !== undefined && etcCanConf) return; // /etc/can.conf of this machine would take part
    Object.assign(process.env, env);
    if (file !== undefined) writeFileSync(join(home, "can.conf"), file);
    await expect(Bus.open()).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT", message });
    // the same configuration is no error when ignored
    await using bus = await Bus.open({ ignoreConfig: true });
    expect(bus.channel).toBe("channel-0");
  });

  it("warns once that a bit rate is not applied, and opens", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      process.env.CAN_BITRATE = "250000";
      await using first = await Bus.open();
      await using second = await Bus.open();
      expect([first.channel, second.channel]).toEqual(["channel-0", "channel-0"]);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.map((w) => [(w as Error & { code?: string }).code, w.message])).toEqual([
      [
        "CANWIRE_CONFIG_NOT_APPLIED",
        "CAN_BITRATE=\"250000\" (environment) is not applied: only a SocketCAN controller takes these settings; interface 'virtual' has none",
      ],
    ]);
  });

  it("passes an interface name on to Bus.open, which refuses one it does not know", async () => {
    process.env.CAN_INTERFACE = "kvaser";
    await expect(Bus.open()).rejects.toMatchObject({ code: "ERR_UNKNOWN_INTERFACE", message: expect.stringContaining("'kvaser'") });
  });

  it("gives `canwire send` without -i/-c the configured bus", async () => {
    const channel = uniqueChannel("cfg");
    await using rx = await Bus.open({ channel, ignoreConfig: true });
    process.env.CAN_INTERFACE = "virtual";
    process.env.CAN_CHANNEL = channel;
    expect(await send(["123#DEADBEEF"])).toBe(0);
    expect((await recvN(rx, 1)).map(formatFrame)).toEqual(["123#DEADBEEF"]);
  });
});
