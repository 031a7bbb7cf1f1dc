/**
 * A SocketCAN controller's configuration: the options `ip link set IFACE
 * type can ...` takes (bit rate and sample point or full timing, the FD data
 * phase, control modes, restart delay, termination), sent over CAN netlink
 * by the native side. {@link Bus.configureInterface} applies them on their
 * own; {@link Bus.open} applies them before opening the socket when one is
 * given (see {@link CONTROLLER_OPTION_NAMES}).
 *
 * Applying brings the link down if it is up, sets the values, and brings it
 * up again (unless `leaveDown`). Needs CAP_NET_ADMIN, except when the
 * controller already runs as asked: then nothing is sent and the link is
 * not bounced. Errors: see {@link configureInterface}.
 *
 * @module
 */
import type * as Native from "../native/index.cjs";
import { binding } from "./binding.js";
import { BitTiming, BitTimingFd } from "./bit-timing.js";
import { configOrigin } from "./bus-config.js";
import { invalid, native, UnsupportedError } from "./errors.js";
import { checkOptions, type Shape } from "./options.js";

/** What to set on a CAN controller; settings not given stay as they are. */
export interface ControllerOptions {
  /** Nominal (arbitration) bit rate in bit/s, 1..1 000 000 (`ip link ... bitrate`). */
  bitrate?: number;
  /** Nominal sample point as a fraction, 0.875 for 87.5 % (`sample-point`); needs `bitrate`. */
  samplePoint?: number;
  /** CAN FD data-phase bit rate in bit/s (`dbitrate`); switches the controller's FD mode on. */
  dataBitrate?: number;
  /** CAN FD data-phase sample point as a fraction (`dsample-point`); needs `dataBitrate`. */
  dataSamplePoint?: number;
  /**
   * The full timing instead of bit rates: a {@link BitTiming} sets the
   * nominal phase, a {@link BitTimingFd} both phases (and FD mode), as
   * `tq`/`prop-seg`/`phase-seg1`/`phase-seg2`/`sjw`. Its `fClock` must be
   * the controller's clock (`Bus.listInterfaces()[i].clock`), else
   * `ERR_INVALID_ARGUMENT`.
   */
  timing?: BitTiming | BitTimingFd;
  /**
   * The controller's CAN FD mode (`fd on|off`). Switching it on needs both
   * phases (the kernel wants them in the same request); a data phase
   * switches it on by itself, and contradicts `fd: false`.
   */
  fd?: boolean;
  /** Listen-only (bus monitoring) mode: the controller never sends, not even ACKs. */
  listenOnly?: boolean;
  /** The controller's internal loopback mode (not the socket's `localLoopback`). */
  loopback?: boolean;
  /** One-shot mode: a frame that fails is not retransmitted. */
  oneShot?: boolean;
  /** Triple sampling of each bit. */
  tripleSampling?: boolean;
  /** Automatic restart after bus-off after this many ms; 0 turns it off. */
  restartMs?: number;
  /** Bus termination in ohms; drivers accept only their own values (often 0 and 120). */
  termination?: number;
}

/** Options of {@link Bus.configureInterface}. */
export interface ConfigureInterfaceOptions extends ControllerOptions {
  /** Leave the link down afterwards instead of bringing it up. Default false. */
  leaveDown?: boolean;
}

/** The {@link ControllerOptions} keys: `Bus.open` configures the controller when any of them (except `fd`) is given. */
export const CONTROLLER_OPTION_NAMES = [
  "bitrate",
  "samplePoint",
  "dataBitrate",
  "dataSamplePoint",
  "timing",
  "listenOnly",
  "loopback",
  "oneShot",
  "tripleSampling",
  "restartMs",
  "termination",
] as const;

/** The JS type of each {@link ControllerOptions} key. */
export const CONTROLLER_OPTION_KINDS: Shape = {
  bitrate: "number",
  samplePoint: "number",
  dataBitrate: "number",
  dataSamplePoint: "number",
  timing: "object",
  fd: "boolean",
  listenOnly: "boolean",
  loopback: "boolean",
  oneShot: "boolean",
  tripleSampling: "boolean",
  restartMs: "number",
  termination: "number",
};

/** The JS type of each {@link ConfigureInterfaceOptions} key. */
const CONFIGURE_OPTION_KINDS: Shape = { ...CONTROLLER_OPTION_KINDS, leaveDown: "boolean" };

/** Whether `options` asks for any controller setting (`fd` alone is about the socket). */
export function wantsController(options: Readonly<Record<string, unknown>>): boolean {
  return CONTROLLER_OPTION_NAMES.some((name) => options[name] !== undefined);
}

/** One phase of a timing as the kernel takes it; the prescaler's segment tseg1 is split into prop-seg and phase-seg1. */
function segments(tq: number, tseg1: number, tseg2: number, sjw: number): Native.NativeSegments {
  const propSeg = Math.floor(tseg1 / 2);
  return { tq, propSeg, phaseSeg1: tseg1 - propSeg, phaseSeg2: tseg2, sjw };
}

/** The native plan for `options` (types checked here, values natively). */
export function nativePlan(options: ConfigureInterfaceOptions): Native.NativeControllerPlan {
  const { timing, ...rest } = options;
  const plan: Native.NativeControllerPlan = { ...rest };
  if (timing === undefined) return plan;
  if (timing instanceof BitTimingFd) {
    if (options.bitrate !== undefined || options.dataBitrate !== undefined) {
      throw invalid("ERR_INVALID_ARGUMENT", "give bitrate/dataBitrate or timing, not both");
    }
    plan.timing = segments(timing.nomTq, timing.nomTseg1, timing.nomTseg2, timing.nomSjw);
    plan.dataTiming = segments(timing.dataTq, timing.dataTseg1, timing.dataTseg2, timing.dataSjw);
  } else if (timing instanceof BitTiming) {
    plan.timing = segments(timing.tq, timing.tseg1, timing.tseg2, timing.sjw);
    if (timing.nofSamples === 3 && plan.tripleSampling === undefined) plan.tripleSampling = true;
  } else {
    throw invalid("ERR_INVALID_ARGUMENT", "timing must be a BitTiming or a BitTimingFd (from canwire)");
  }
  plan.timingClock = timing.fClock;
  return plan;
}

/**
 * Configures the controller of SocketCAN interface `name`.
 *
 * @throws `ERR_INVALID_ARGUMENT` for a bad option (before anything is
 *   touched) or a value the kernel rejects, naming it;
 *   `ERR_UNSUPPORTED` for an interface without a controller (vcan, vxcan),
 *   an option the driver refuses, or a platform without SocketCAN;
 *   `ERR_PERMISSION_DENIED` without CAP_NET_ADMIN;
 *   `ERR_UNKNOWN_INTERFACE` / `ERR_NOT_CAN_INTERFACE` for the name.
 *   A failure after the link was brought down says so and leaves it down.
 */
export function configureInterface(name: string, options: ConfigureInterfaceOptions): void {
  if (typeof name !== "string") throw invalid("ERR_INVALID_ARGUMENT", "the interface name must be a string");
  const checked = checkOptions<ConfigureInterfaceOptions>(options, "options", CONFIGURE_OPTION_KINDS);
  const plan = nativePlan(checked);
  native(() => binding.configureInterface(name, plan));
}

/** Checks `options` as {@link configureInterface} would, without touching an interface. */
export function checkControllerOptions(options: ConfigureInterfaceOptions): void {
  const checked = checkOptions<ConfigureInterfaceOptions>(options, "options", CONFIGURE_OPTION_KINDS);
  const plan = nativePlan(checked);
  native(() => binding.checkControllerPlan(plan));
}

/** Sets SocketCAN interface `name` up or down (`ip link set NAME up|down`); needs CAP_NET_ADMIN. */
export function setInterfaceUp(name: string, up: boolean): void {
  native(() => binding.setInterfaceUp(name, up));
}

/** Restarts the bus-off controller of `name` (`ip link set NAME type can restart`); needs CAP_NET_ADMIN, restartMs 0. */
export function restartInterface(name: string): void {
  native(() => binding.restartInterface(name));
}

/** Warnings already given, so each shows once per process. */
const warned = new Set<string>();

function notApplied(options: object, keys: readonly string[], why: string): void {
  const sources = keys.map((key) => configOrigin(options, key) ?? key);
  const message = `${sources.join(", ")} ${keys.length === 1 ? "is" : "are"} not applied: ${why}`;
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, { code: "CANWIRE_CONFIG_NOT_APPLIED" });
}

/**
 * What `Bus.open` does with the controller options before opening the
 * socket: configures `channel`'s controller when `options` hold any.
 * Options the caller gave (`explicit`) must apply or fail; options that only
 * python-can's configuration (`CAN_BITRATE`, `can.conf`) added are applied
 * where there is a controller and otherwise left out with a warning, so a
 * configured bit rate does not break opening a vcan or a virtual bus.
 * Returns whether the controller got a data phase (the socket then opens for FD).
 */
export function configureBeforeOpen(
  iface: string,
  channel: string,
  options: Readonly<Record<string, unknown>>,
  explicit: Readonly<Record<string, unknown>>,
): boolean {
  const keys = CONTROLLER_OPTION_NAMES.filter((name) => options[name] !== undefined);
  if (keys.length === 0) return false;
  const explicitKeys = keys.filter((name) => explicit[name] !== undefined);
  if (iface !== "socketcan" || channel === "") {
    const why =
      iface !== "socketcan"
        ? `only a SocketCAN controller takes these settings; interface '${iface}' has none`
        : "a bus on all interfaces (channel '') has no one controller";
    if (explicitKeys.length > 0) {
      throw new UnsupportedError("ERR_UNSUPPORTED", `${explicitKeys.join(", ")}: ${why}`);
    }
    notApplied(options, keys, why);
    return false;
  }
  if (explicitKeys.length === 0) {
    const found = native(() => binding.listInterfaces()).find((i) => i.name === channel);
    if (found?.ctrlModes === undefined) {
      notApplied(options, keys, `${channel} has no CAN controller (vcan, vxcan) or does not exist`);
      return false;
    }
  }
  const chosen: Record<string, unknown> = {};
  for (const key of keys) chosen[key] = options[key];
  const plan = nativePlan(checkOptions<ConfigureInterfaceOptions>(chosen, "options", CONTROLLER_OPTION_KINDS));
  native(() => binding.configureInterface(channel, plan));
  return plan.dataTiming !== undefined || plan.dataBitrate !== undefined;
}
