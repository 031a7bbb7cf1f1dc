/**
 * `canwire link`: shows and configures SocketCAN interfaces' controllers,
 * as `ip -details link show` and `ip link set IFACE [up|down] type can ...`.
 *
 * @module
 * @internal
 */
import { Bus, type CanInterface, type CanSegments } from "../bus.js";
import type { ConfigureInterfaceOptions } from "../controller.js";
import { ExitCode, parse, UsageError } from "./args.js";

export const linkUsage = `usage: canwire link [IFACE] [--json]
       canwire link IFACE up|down
       canwire link IFACE [up|down] [--bitrate N [--sample-point X]] [--dbitrate N [--dsample-point X]]
                          [--fd on|off] [--listen-only on|off] [--loopback on|off] [--one-shot on|off]
                          [--triple-sampling on|off] [--restart-ms N] [--termination OHM] [--restart]

Without settings, prints the CAN interfaces (or IFACE) as 'ip -details link show'
does; --json prints them as Bus.listInterfaces() returns them. 'up' or 'down' alone
sets the link. With settings, configures the controller over CAN netlink: the link
goes down if it is up, the settings are applied, and it comes up again (stays down
with 'down'). Nothing is sent when the controller already runs so. Needs
CAP_NET_ADMIN (root) for changes.
      --bitrate N            nominal bit rate in bit/s
      --sample-point X       nominal sample point as a fraction (0.875)
      --dbitrate N           CAN FD data bit rate in bit/s (switches FD mode on)
      --dsample-point X      data sample point as a fraction
      --fd on|off            the controller's CAN FD mode (on needs --bitrate and --dbitrate)
      --listen-only on|off   listen-only mode
      --loopback on|off      the controller's loopback mode
      --one-shot on|off      no automatic retransmission
      --triple-sampling on|off
      --restart-ms N         automatic restart N ms after bus-off (0: off)
      --termination OHM      bus termination (drivers take their own values, e.g. 0, 120)
      --restart              restart a bus-off controller now (needs restart-ms 0)
      --json                 print as JSON
  -h, --help                 show this help`;

const spec = {
  bitrate: { type: "string" },
  "sample-point": { type: "string" },
  dbitrate: { type: "string" },
  "dsample-point": { type: "string" },
  fd: { type: "string" },
  "listen-only": { type: "string" },
  loopback: { type: "string" },
  "one-shot": { type: "string" },
  "triple-sampling": { type: "string" },
  "restart-ms": { type: "string" },
  termination: { type: "string" },
  restart: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parse<typeof spec>>["values"];

function whole(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/u.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`--${flag} must be a whole number, got '${text}'`);
  return value;
}

function fraction(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new UsageError(`--${flag} must be a fraction above 0 and below 1 (0.875 is 87.5 %), got '${text}'`);
  }
  return value;
}

function onOff(flag: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === "on") return true;
  if (text === "off") return false;
  throw new UsageError(`--${flag} takes on or off, got '${text}'`);
}

/** The controller settings the command line gives (keys only for those given). */
export function linkSettings(values: Values): ConfigureInterfaceOptions {
  const settings: ConfigureInterfaceOptions = {
    bitrate: whole("bitrate", values.bitrate),
    samplePoint: fraction("sample-point", values["sample-point"]),
    dataBitrate: whole("dbitrate", values.dbitrate),
    dataSamplePoint: fraction("dsample-point", values["dsample-point"]),
    fd: onOff("fd", values.fd),
    listenOnly: onOff("listen-only", values["listen-only"]),
    loopback: onOff("loopback", values.loopback),
    oneShot: onOff("one-shot", values["one-shot"]),
    tripleSampling: onOff("triple-sampling", values["triple-sampling"]),
    restartMs: whole("restart-ms", values["restart-ms"]),
    termination: whole("termination", values.termination),
  };
  for (const key of Object.keys(settings) as (keyof ConfigureInterfaceOptions)[]) {
    if (settings[key] === undefined) delete settings[key];
  }
  return settings;
}

/** `ip`'s names of the CAN_CTRLMODE_* bits, in bit order. */
const MODE_NAMES = [
  "LOOPBACK",
  "LISTEN-ONLY",
  "TRIPLE-SAMPLING",
  "ONE-SHOT",
  "BERR-REPORTING",
  "FD",
  "PRESUME-ACK",
  "FD-NON-ISO",
  "CC-LEN8-DLC",
];

const STATE_NAMES: Readonly<Record<string, string>> = {
  active: "ERROR-ACTIVE",
  warning: "ERROR-WARNING",
  passive: "ERROR-PASSIVE",
  "bus-off": "BUS-OFF",
  unknown: "STOPPED",
};

function point(fraction: number): string {
  return fraction.toFixed(3);
}

function segmentsLine(prefix: string, s: CanSegments): string {
  return `${prefix}tq ${s.tq} ${prefix}prop-seg ${s.propSeg} ${prefix}phase-seg1 ${s.phaseSeg1} ${prefix}phase-seg2 ${s.phaseSeg2} ${prefix}sjw ${s.sjw} ${prefix}brp ${s.brp}`;
}

/** One interface in the shape of `ip -details link show` (the CAN part). */
export function describeInterface(i: CanInterface): string {
  const lines = [
    `${i.index}: ${i.name}: <${i.up ? "UP" : "DOWN"}> mtu ${i.mtu} state ${i.operstate.toUpperCase()}${i.fd ? " (CAN FD capable)" : ""}`,
  ];
  if (i.ctrlModes === undefined) {
    lines.push("    no CAN controller (virtual interface)");
    return lines.join("\n");
  }
  const modes = MODE_NAMES.filter((_, bit) => ((i.ctrlModes ?? 0) & (1 << bit)) !== 0);
  let can = `    can ${modes.length > 0 ? `<${modes.join(",")}> ` : ""}state ${STATE_NAMES[i.controllerState ?? "unknown"] ?? "STOPPED"}`;
  if (i.txErrorCounter !== undefined) can += ` (berr-counter tx ${i.txErrorCounter} rx ${i.rxErrorCounter ?? 0})`;
  can += ` restart-ms ${i.restartMs ?? 0}`;
  lines.push(can);
  const indent = "          ";
  // as ip: no sample point where the driver names none (fixed bit rates)
  const sp = (prefix: string, fraction: number | undefined) => (fraction === undefined ? "" : ` ${prefix}sample-point ${point(fraction)}`);
  if (i.bitrate !== undefined) lines.push(`${indent}bitrate ${i.bitrate}${sp("", i.samplePoint)}`);
  if (i.timing !== undefined) lines.push(indent + segmentsLine("", i.timing));
  if (i.dataBitrate !== undefined) lines.push(`${indent}dbitrate ${i.dataBitrate}${sp("d", i.dataSamplePoint)}`);
  if (i.dataTiming !== undefined) lines.push(indent + segmentsLine("d", i.dataTiming));
  let tail = `${indent}clock ${i.clock ?? 0}`;
  if (i.termination !== undefined) tail += ` termination ${i.termination}`;
  lines.push(tail);
  return lines.join("\n");
}

/** Runs `canwire link`. */
export async function link(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, spec, true);
  if (values.help) {
    console.log(linkUsage);
    return ExitCode.OK;
  }
  const [name, state, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected '${extra.join(" ")}'`);
  if (state !== undefined && state !== "up" && state !== "down") throw new UsageError(`'${state}' is neither up nor down`);
  const settings = linkSettings(values);
  const configures = Object.keys(settings).length > 0;
  if (name === undefined) {
    if (configures || values.restart) throw new UsageError("settings need an IFACE");
    const all = Bus.listInterfaces();
    console.log(values.json ? JSON.stringify(all, null, 2) : all.map(describeInterface).join("\n"));
    return ExitCode.OK;
  }
  if (configures) {
    Bus.configureInterface(name, { ...settings, leaveDown: state === "down" });
  } else if (state !== undefined) {
    Bus.setInterfaceUp(name, state === "up");
  }
  if (values.restart) Bus.restartInterface(name);
  if (configures || state !== undefined || values.restart) return ExitCode.OK;
  const found = Bus.listInterfaces().find((i) => i.name === name);
  if (found === undefined) {
    console.error(`canwire link: no CAN interface named '${name}'`);
    return ExitCode.FAILURE;
  }
  console.log(values.json ? JSON.stringify(found, null, 2) : describeInterface(found));
  return ExitCode.OK;
}
