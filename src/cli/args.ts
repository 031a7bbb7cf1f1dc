/**
 * Shared argument handling for the `canwire` commands.
 *
 * @module
 * @internal
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { BusOptions, InterfaceName } from "../bus.js";
import type { CanFilter } from "../filters.js";
import { socketcandChannel } from "./serve-socketcand.js";

/** Exit codes scripts can rely on. */
export const ExitCode = {
  OK: 0,
  /** A runtime failure: a CanError from the bus, a send that failed. */
  FAILURE: 1,
  /** Bad command line. */
  USAGE: 2,
} as const;

/** A command-line mistake; printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** Options every bus-using command takes. */
export const busOptionSpec = {
  interface: { type: "string", short: "i" },
  channel: { type: "string", short: "c" },
  fd: { type: "boolean" },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

/** Usage text for the bus options. */
export const busOptionHelp = `  -i, --interface IFACE   virtual (default), socketcan, socketcand or jumpstarter
  -c, --channel CHANNEL   virtual channel name (default channel-0) or CAN interface
                          (vcan0; socketcan dump without -c reads all interfaces),
                          or a Jumpstarter exporter's Can driver (default can; the
                          exporter is JUMPSTARTER_HOST, as jmp shell sets it),
                          or socketcand's BUS@HOST[:PORT] (vcan0@192.168.1.5:29536)
                          udp_multicast (-i): a multicast group, default python-can's
                          ff15:7079:7468:6f6e:6465:6d6f:6d63:6173 (or 239.74.163.2)
      --fd                open the bus for CAN FD
                          without -i, -c or --fd, python-can's configuration gives
                          them: CAN_INTERFACE, CAN_CHANNEL, CAN_CONFIG, ~/can.conf
  -h, --help              show this help`;

/** Parses argv against a spec, turning parse failures into UsageErrors. */
export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  allowPositionals: boolean,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The interface names `-i` takes (a configured interface goes to `Bus.open` as it is). */
const CLI_INTERFACES: readonly string[] = ["virtual", "socketcan", "socketcand", "jumpstarter", "udp_multicast"];

/**
 * Bus options from parsed values: only those given, so that `Bus.open` takes
 * the others from python-can's configuration.
 */
export function busOptions(values: { interface?: string; channel?: string; fd?: boolean }): BusOptions {
  const options: BusOptions = {};
  const iface = values.interface;
  if (iface !== undefined && !CLI_INTERFACES.includes(iface)) {
    throw new UsageError(`unknown interface '${iface}': use ${CLI_INTERFACES.join(", ")}`);
  }
  if (iface !== undefined) options.interface = iface as InterfaceName;
  if (values.channel !== undefined) options.channel = values.channel;
  if (iface === "socketcand" && values.channel !== undefined) Object.assign(options, socketcandChannel(values.channel));
  if (values.fd) options.fd = true;
  return options;
}

/** Parses a non-negative integer option. */
export function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`${name} must be an integer >= 0, got '${text}'`);
  return value;
}

/** Parses a non-negative number option (fractions allowed). */
export function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${name} must be a number >= 0, got '${text}'`);
  return value;
}

/**
 * Parses a filter as candump and python-can write it: `ID:MASK` passes ids
 * matching under the mask, `ID~MASK` passes the others; hex, with an
 * 8-digit ID meaning extended.
 */
export function parseFilter(text: string): CanFilter {
  const match = /^([0-9a-fA-F]{1,8})([:~])([0-9a-fA-F]{1,8})$/.exec(text);
  if (!match) throw new UsageError(`bad filter '${text}': use ID:MASK or ID~MASK in hex, e.g. 123:7FF`);
  const [, idText = "", op, maskText = ""] = match;
  const id = parseInt(idText, 16);
  const mask = parseInt(maskText, 16);
  if (id > 0x1fffffff || mask > 0x1fffffff) throw new UsageError(`bad filter '${text}': ID and MASK are at most 1FFFFFFF`);
  const filter: CanFilter = { id, mask, inverted: op === "~" };
  if (idText.length === 8) filter.extended = true;
  return filter;
}
