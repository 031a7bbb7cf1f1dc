// Controller configuration over CAN netlink on a real can-dev driver: slcan
// attached to a pty (slcan.py plays the serial adapter and logs the slcan
// commands the driver writes), checked against iproute2 both ways.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BitTiming, Bus, serveSocketcand } from "../../src/index.js";
import { hasAfCan } from "./can-utils.js";

// the guest is emulated: a node start (each `canwire link`) takes seconds
vi.setConfig({ testTimeout: 300_000, hookTimeout: 60_000 });

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

interface IpLink {
  flags: string[];
  linkinfo: { info_kind: string; info_data: { ctrlmode?: string[]; bittiming_bitrate?: number; restart_ms: number } };
}

async function ipDetails(name: string): Promise<IpLink> {
  const { stdout } = await run("ip", ["-details", "-json", "link", "show", name]);
  return (JSON.parse(stdout) as IpLink[])[0] as IpLink;
}

async function ip(...args: string[]): Promise<void> {
  await run("ip", ["link", "set", ...args]);
}

/** A slcan interface and the slcan commands its adapter received. */
class Slcan {
  readonly commands: string[] = [];
  name = "";
  #child?: ChildProcessWithoutNullStreams;

  async start(): Promise<void> {
    const child = spawn("/usr/bin/python3", [fileURLToPath(new URL("./slcan.py", import.meta.url)), "--log-commands"]);
    this.#child = child;
    let buffered = "";
    this.name = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        buffered += d;
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const line of lines) {
          if (line.startsWith("cmd ")) this.commands.push(line.slice(4));
          else resolve(line.trim());
        }
      });
      child.once("error", reject);
      child.once("close", (status) => reject(new Error(`slcan.py exited with ${status}`)));
    });
  }

  /** The commands received since the last call: waits for `count`, then a little longer for any more. */
  async take(count: number): Promise<string[]> {
    for (let i = 0; i < 150 && this.commands.length < count; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    return this.commands.splice(0);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.stdin.end();
    await new Promise((r) => child.once("close", r));
  }
}

describe.skipIf(!hasAfCan)("socketcan: configuring a real controller (slcan on a pty)", () => {
  const slcan = new Slcan();
  beforeAll(() => slcan.start());
  afterAll(() => slcan.stop());

  it("canwire sets bit rate and listen-only; ip reads back exactly those, the adapter got S5 and L", async () => {
    Bus.configureInterface(slcan.name, { bitrate: 250_000, listenOnly: true });
    const link = await ipDetails(slcan.name);
    expect(link.linkinfo.info_kind).toBe("can");
    expect(link.flags).toContain("UP");
    expect(link.linkinfo.info_data).toMatchObject({ ctrlmode: ["LISTEN-ONLY"], bittiming_bitrate: 250_000, restart_ms: 0 });
    expect(await slcan.take(3)).toEqual(["C", "S5", "L"]);

    // up again with other values: down first (C), then S6 and O; leaveDown keeps it down
    Bus.configureInterface(slcan.name, { bitrate: 500_000, listenOnly: false });
    expect(await slcan.take(4)).toEqual(["C", "C", "S6", "O"]);
    Bus.configureInterface(slcan.name, { bitrate: 1_000_000, leaveDown: true });
    const down = await ipDetails(slcan.name);
    expect(down.flags).not.toContain("UP");
    expect(down.linkinfo.info_data.bittiming_bitrate).toBe(1_000_000);
    expect(down.linkinfo.info_data.ctrlmode ?? []).toEqual([]);
    expect(await slcan.take(1)).toEqual(["C"]);
  });

  it("what is already set sends nothing, and the link is not bounced", async () => {
    Bus.configureInterface(slcan.name, { bitrate: 125_000 });
    expect(await slcan.take(3)).toEqual(["C", "S4", "O"]);
    Bus.configureInterface(slcan.name, { bitrate: 125_000, listenOnly: false, restartMs: 0 });
    expect(await slcan.take(0)).toEqual([]);
    expect((await ipDetails(slcan.name)).flags).toContain("UP");
  });

  it("ip link sets values; listInterfaces and `canwire link` read back exactly the same", async () => {
    await ip(slcan.name, "down");
    await ip(slcan.name, "type", "can", "bitrate", "800000", "listen-only", "on");
    await ip(slcan.name, "up");
    const info = Bus.listInterfaces().find((i) => i.name === slcan.name);
    expect(info).toMatchObject({
      up: true,
      bitrate: 800_000,
      listenOnly: true,
      loopback: false,
      oneShot: false,
      tripleSampling: false,
      fdMode: false,
      restartMs: 0,
      controllerState: "active",
      clock: 0,
      ctrlModes: 0x02,
      ctrlModesSupported: 0x02, // slcan supports listen-only only
    });
    expect(info?.samplePoint).toBeUndefined();
    expect(info?.timing).toBeUndefined();

    const json = await run("node", [CLI, "link", slcan.name, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(Bus.listInterfaces().find((i) => i.name === slcan.name))));
    const text = await run("node", [CLI, "link", slcan.name]);
    expect(text.stdout.split("\n").slice(1, 4)).toEqual([
      "    can <LISTEN-ONLY> state ERROR-ACTIVE restart-ms 0",
      "          bitrate 800000",
      "          clock 0",
    ]);
    await run("node", [CLI, "link", slcan.name, "down"]);
    expect((await ipDetails(slcan.name)).flags).not.toContain("UP");
    await run("node", [CLI, "link", slcan.name, "up", "--bitrate", "500000", "--listen-only", "off"]);
    const link = await ipDetails(slcan.name);
    expect(link.flags).toContain("UP");
    expect(link.linkinfo.info_data).toMatchObject({ bittiming_bitrate: 500_000 });
    expect(link.linkinfo.info_data.ctrlmode ?? []).toEqual([]);
  });

  it("Bus.open configures the controller first, and a configured CAN_BITRATE reaches it", async () => {
    {
      await using bus = await Bus.open({ interface: "socketcan", channel: slcan.name, bitrate: 250_000, listenOnly: true });
      expect(bus.state).toBe("active");
      expect((await ipDetails(slcan.name)).linkinfo.info_data).toMatchObject({ bittiming_bitrate: 250_000, ctrlmode: ["LISTEN-ONLY"] });
    }
    process.env.CAN_BITRATE = "125000";
    try {
      {
        await using bus = await Bus.open({ interface: "socketcan", channel: slcan.name });
        expect(bus.channel).toBe(slcan.name);
      }
      expect((await ipDetails(slcan.name)).linkinfo.info_data.bittiming_bitrate).toBe(125_000);
      // vcan has no controller: the configured bit rate is left out (with a warning), the bus opens
      await using vcan = await Bus.open({ interface: "socketcan", channel: "vcan0" });
      expect(vcan.channel).toBe("vcan0");
    } finally {
      delete process.env.CAN_BITRATE;
    }
  });

  it("what slcan refuses is a typed error naming the option and the step", async () => {
    Bus.configureInterface(slcan.name, { bitrate: 500_000 });
    const cases: [Parameters<typeof Bus.configureInterface>[1], string, string][] = [
      [{ bitrate: 12_345 }, "ERR_INVALID_ARGUMENT", `setting bitrate 12345 on ${slcan.name} failed with EINVAL`],
      [{ restartMs: 100 }, "ERR_UNSUPPORTED", `setting restartMs 100 on ${slcan.name} failed with EOPNOTSUPP`],
      [{ oneShot: true }, "ERR_UNSUPPORTED", `setting oneShot true on ${slcan.name} failed with EOPNOTSUPP`],
      [{ termination: 120 }, "ERR_UNSUPPORTED", `setting termination 120 on ${slcan.name} failed with EOPNOTSUPP`],
      [
        { bitrate: 500_000, dataBitrate: 2_000_000 },
        "ERR_UNSUPPORTED",
        `setting bitrate 500000, dataBitrate 2000000, fd true on ${slcan.name} failed with EOPNOTSUPP`,
      ],
      [
        // slcan has fixed bit rates and no segment limits: the kernel refuses segments
        { timing: BitTiming.fromBitrateAndSegments({ fClock: 8_000_000, bitrate: 500_000, tseg1: 13, tseg2: 2, sjw: 1 }) },
        "ERR_INVALID_ARGUMENT",
        `setting timing (tq 125 ns, prop-seg 6, phase-seg1 7, phase-seg2 2, sjw 1) on ${slcan.name} failed with EINVAL`,
      ],
    ];
    for (const [options, code, start] of cases) {
      let error: (Error & { code?: string; errno?: string }) | undefined;
      try {
        Bus.configureInterface(slcan.name, options);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.code).toBe(code);
      expect(error?.message.startsWith(start), error?.message).toBe(true);
      // it was up, so the apply had brought it down, and says it leaves it so
      expect(error?.message).toContain(`${slcan.name} was brought down for this and is left down`);
      Bus.setInterfaceUp(slcan.name, true);
    }
    // values checked before the kernel sees them
    expect(() => Bus.configureInterface(slcan.name, { bitrate: 0 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect((await ipDetails(slcan.name)).flags).toContain("UP");
  });

  it("socketcand `B`/`C` from a client reach the controller when the server allows it", async () => {
    await using server = await serveSocketcand(
      { [slcan.name]: { interface: "socketcan", channel: slcan.name } },
      { port: 0, allowReconfigure: true },
    );
    const talk = (element: string, replies: number) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(server.address.port ?? 0, "127.0.0.1");
        let text = "";
        socket.setEncoding("utf8").on("data", (d: string) => {
          text += d;
          if (text === "< hi >") socket.write(element);
          if ((text.match(/>/g) ?? []).length > replies) socket.end();
        });
        socket.on("close", () => resolve(text));
        socket.on("error", reject);
      });
    expect(await talk(`< ${slcan.name} B 250000 -1 -1 -1 -1 -1 -1 -1 >`, 1)).toBe("< hi >< ok >");
    expect((await ipDetails(slcan.name)).linkinfo.info_data).toMatchObject({ bittiming_bitrate: 250_000 });
    expect(await talk(`< ${slcan.name} C 1 0 0 >`, 1)).toBe("< hi >< ok >");
    expect((await ipDetails(slcan.name)).linkinfo.info_data.ctrlmode).toEqual(["LISTEN-ONLY"]);
    // slcan has no loopback mode: the driver's refusal is socketcand's "not supported", then close
    expect(await talk(`< ${slcan.name} C 0 1 0 >`, 1)).toBe("< hi >< configuration operation not supported C > \n");
    expect(await talk(`< ${slcan.name} B 12345 -1 -1 -1 -1 -1 -1 -1 >`, 1)).toBe(`< hi >< error configuring interface ${slcan.name} > \n`);
    Bus.configureInterface(slcan.name, { bitrate: 500_000, listenOnly: false });
  });

  it("a process without CAP_NET_ADMIN gets ERR_PERMISSION_DENIED", async () => {
    const error = await run("setpriv", [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
      process.execPath,
      CLI,
      "link",
      slcan.name,
      "--bitrate",
      "250000",
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(error).toMatchObject({ code: 1 });
    expect((error as { stderr: string }).stderr).toMatch(
      new RegExp(
        `^canwire link: ERR_PERMISSION_DENIED: bringing the link down on ${slcan.name} failed with EPERM: configuring a CAN controller needs CAP_NET_ADMIN`,
      ),
    );
  });
});

describe.skipIf(!hasAfCan)("socketcan: interfaces without a controller", () => {
  it("vcan is ERR_UNSUPPORTED for configuration, explicit Bus.open options included; a plain open still works", async () => {
    expect(() => Bus.configureInterface("vcan0", { bitrate: 500_000 })).toThrow(
      expect.objectContaining({
        code: "ERR_UNSUPPORTED",
        message: expect.stringMatching(/^vcan0 has no CAN controller \(a virtual interface such as vcan or vxcan\)/),
      }),
    );
    await expect(Bus.open({ interface: "socketcan", channel: "vcan0", bitrate: 500_000 })).rejects.toMatchObject({
      code: "ERR_UNSUPPORTED",
    });
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0", fd: true });
    expect(bus.protocol).toBe("CAN_FD");
    const cli = await run("node", [CLI, "link", "vcan0"]);
    expect(cli.stdout).toContain("no CAN controller (virtual interface)");
  });

  it("an unknown interface is ERR_UNKNOWN_INTERFACE", () => {
    expect(() => Bus.configureInterface("nosuch0", { bitrate: 500_000 })).toThrow(
      expect.objectContaining({ code: "ERR_UNKNOWN_INTERFACE" }),
    );
  });
});
