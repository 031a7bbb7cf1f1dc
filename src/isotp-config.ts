/**
 * ISO-TP configuration: addresses and parameters as python-can-isotp names
 * them, in camelCase, with the seed's snake_case names accepted too.
 *
 * @module
 */
import { Bus } from "./bus.js";
import { invalid } from "./errors.js";
import { checkObject, checkShape, describe, type Shape } from "./options.js";

/** The seven addressing modes, with python-can-isotp's names. */
export type IsoTpAddressingMode =
  | "Normal_11bits"
  | "Normal_29bits"
  | "NormalFixed_29bits"
  | "Extended_11bits"
  | "Extended_29bits"
  | "Mixed_11bits"
  | "Mixed_29bits";

/**
 * One address configuration (python-can-isotp's `Address`). Fields a mode
 * does not use are ignored. Default mode: `Normal_11bits`.
 *
 * @example
 * ```ts
 * { rxid: 0x7e8, txid: 0x7e0 }                                     // Normal_11bits
 * { mode: "NormalFixed_29bits", targetAddress: 0x10, sourceAddress: 0xf1 }
 * { mode: "Mixed_11bits", txid: 0x7e0, rxid: 0x7e8, addressExtension: 0x99 }
 * ```
 */
export interface IsoTpAddressConfig {
  /** Addressing mode. Default `Normal_11bits`. */
  mode?: IsoTpAddressingMode;
  /** Id of transmitted frames (Normal, Extended, Mixed 11-bit). */
  txid?: number;
  /** Id of received frames (Normal, Extended, Mixed 11-bit). */
  rxid?: number;
  /** Target address TA (NormalFixed, Extended, Mixed 29-bit). */
  targetAddress?: number;
  /** Source address SA (NormalFixed, Extended, Mixed 29-bit). */
  sourceAddress?: number;
  /** Address extension AE (Mixed modes). */
  addressExtension?: number;
  /** Overrides bits 28..16 of the physical id (NormalFixed, Mixed 29-bit). */
  physicalId?: number;
  /** Overrides bits 28..16 of the functional id (NormalFixed, Mixed 29-bit). */
  functionalId?: number;
}

/** A symmetric address, or an asymmetric one with a transmit and a receive side (either may be alone). */
export type IsoTpAddress = IsoTpAddressConfig | { tx?: IsoTpAddressConfig; rx?: IsoTpAddressConfig };

/**
 * ISO-TP parameters: python-can-isotp's, with its defaults and units
 * (timeouts in milliseconds; `overrideReceiverStmin` and
 * `rateLimitWindowSize` in seconds). The snake_case names
 * (`rx_flowcontrol_timeout`, `can_fd`, ...) are accepted too.
 *
 * With `stack: "kernel"` each parameter becomes a can-isotp socket option,
 * or is refused where the kernel cannot honour it:
 *
 * | parameter | kernel can-isotp |
 * |---|---|
 * | `stmin`, `blocksize` | `CAN_ISOTP_RECV_FC` (what our flow control frames say) |
 * | `wftmax` | `CAN_ISOTP_RECV_FC.wftmax` (0..255); the kernel never sends WAIT frames and accepts any number of them, each restarting its 1 s N_Bs |
 * | `txDataLength`, `canFd`, `bitrateSwitch` | `CAN_ISOTP_LL_OPTS`: mtu 72 with `canFd` (the socket then sends and accepts FD frames only), `tx_dl`, `tx_flags` = BRS |
 * | `txPadding` | `CAN_ISOTP_TX_PADDING` with the byte (flow control frames too) |
 * | `txDataMinLength` | 8 is `CAN_ISOTP_TX_PADDING` (0xCC unless `txPadding`); below 8 only with `txPadding`; others `ERR_UNSUPPORTED` (the kernel pads to 8 or not at all) |
 * | `overrideReceiverStmin` | `CAN_ISOTP_FORCE_TXSTMIN` with `CAN_ISOTP_TX_STMIN` |
 * | `rxFlowcontrolTimeout`, `rxConsecutiveFrameTimeout` | fixed at 1000 ms in the kernel: other values are `ERR_UNSUPPORTED` |
 * | `maxFrameSize` | checked after reception: a larger payload within the kernel's own limit (66000 bytes on current kernels, 8200 on old ones) is dropped and reported as `ERR_ISOTP_FRAME_TOO_LONG`, not refused with an OVERFLOW flow control |
 * | `defaultTargetAddressType` | picks the socket: functional sends use a `CAN_ISOTP_SF_BROADCAST` socket (single frames only) |
 * | `rateLimitEnable`, `rateLimitMaxBitrate`, `rateLimitWindowSize` | the kernel has no rate limiter: enabling it is `ERR_UNSUPPORTED` |
 * | `listenMode` | `CAN_ISOTP_LISTEN_MODE` |
 * | `blockingSend` | every write uses `CAN_ISOTP_WAIT_TX_DONE` on a native thread, so each transfer's outcome (and the kernel's errno) is known; a blocking send resolves when the last frame is out |
 *
 * Settings only the kernel has are in {@link KernelIsoTpOptions}.
 */
export interface IsoTpParams {
  /** STmin we ask the sender for: 0..127 ms, or 0xF1..0xF9 for 100..900 µs. Default 0. */
  stmin?: number;
  /** Block size we ask for; 0 = no limit. Default 8. */
  blocksize?: number;
  /** TX_DL: 8, or with `canFd` 12, 16, 20, 24, 32, 48, 64. Default 8. */
  txDataLength?: number;
  /** Pad every frame to at least this many bytes. */
  txDataMinLength?: number;
  /** Ignore the receiver's STmin and use this many seconds. */
  overrideReceiverStmin?: number;
  /** N_Bs: ms to wait for a flow control frame. Default 1000. */
  rxFlowcontrolTimeout?: number;
  /** N_Cr: ms to wait for a consecutive frame. Default 1000. */
  rxConsecutiveFrameTimeout?: number;
  /** Padding byte; unset = no padding (classic frames keep their length). */
  txPadding?: number;
  /** WAIT frames accepted in a row; 0 = WAIT unsupported. Default 0. */
  wftmax?: number;
  /** Largest payload accepted; larger first frames get an OVERFLOW flow control. Default 4095. */
  maxFrameSize?: number;
  /** Send CAN FD frames. Default false. */
  canFd?: boolean;
  /** Set BRS on FD frames. Default false. */
  bitrateSwitch?: boolean;
  /** Target address type of sends that name none. Default physical. */
  defaultTargetAddressType?: "physical" | "functional";
  /** Limit the transmitted payload bit rate. Default false. */
  rateLimitEnable?: boolean;
  /** Bits per second when limited. Default 1e8 (python-can-isotp's code; its docs say 1e7). */
  rateLimitMaxBitrate?: number;
  /** Sliding window of the limiter in seconds. Default 0.2. */
  rateLimitWindowSize?: number;
  /** Receive without ever sending flow control. Default false. */
  listenMode?: boolean;
  /** `send` resolves only when the transfer is complete. Default false. */
  blockingSend?: boolean;
}

/**
 * Settings of the kernel's can-isotp socket (`stack: "kernel"`) that
 * python-can-isotp's parameters do not cover (snake_case accepted too).
 */
export interface KernelIsoTpOptions {
  /**
   * Pause after every sent frame (N_As), in ns. The kernel's own default of
   * 50 µs costs throughput, so canwire sets 0 unless this is given.
   */
  frameTxtimeNs?: number;
  /** Received frames are padded with this byte (`CAN_ISOTP_RX_PADDING`). */
  rxPadding?: number;
  /** Drop received frames whose padded length is wrong (`CAN_ISOTP_CHK_PAD_LEN`). */
  checkRxPaddingLength?: boolean;
  /** Drop received frames whose padding differs from `rxPadding` (`CAN_ISOTP_CHK_PAD_DATA`). */
  checkRxPaddingData?: boolean;
  /** Ignore frames of the other direction while a transfer runs (`CAN_ISOTP_HALF_DUPLEX`). */
  halfDuplex?: boolean;
  /** Drop received consecutive frames closer than this many ns (`CAN_ISOTP_FORCE_RXSTMIN`). */
  forceRxStminNs?: number;
}

const KERNEL_KEYS: ReadonlyArray<keyof KernelIsoTpOptions> = [
  "frameTxtimeNs",
  "rxPadding",
  "checkRxPaddingLength",
  "checkRxPaddingData",
  "halfDuplex",
  "forceRxStminNs",
];

/** Normalized kernel socket options. */
export function normalizeKernelOptions(options: object | undefined): KernelIsoTpOptions {
  return normalizeKeys<KernelIsoTpOptions>(options, KERNEL_KEYS, "kernel ISO-TP option", KERNEL_KINDS, "options.kernel");
}

const PARAM_KEYS: ReadonlyArray<keyof IsoTpParams> = [
  "stmin",
  "blocksize",
  "txDataLength",
  "txDataMinLength",
  "overrideReceiverStmin",
  "rxFlowcontrolTimeout",
  "rxConsecutiveFrameTimeout",
  "txPadding",
  "wftmax",
  "maxFrameSize",
  "canFd",
  "bitrateSwitch",
  "defaultTargetAddressType",
  "rateLimitEnable",
  "rateLimitMaxBitrate",
  "rateLimitWindowSize",
  "listenMode",
  "blockingSend",
];

const ADDRESS_KEYS: ReadonlyArray<keyof IsoTpAddressConfig> = [
  "mode",
  "txid",
  "rxid",
  "targetAddress",
  "sourceAddress",
  "addressExtension",
  "physicalId",
  "functionalId",
];

/** The JS type of each parameter; the native side checks the values. */
const PARAM_KINDS: Shape = {
  stmin: "number",
  blocksize: "number",
  txDataLength: "number",
  txDataMinLength: "number",
  overrideReceiverStmin: "number",
  rxFlowcontrolTimeout: "number",
  rxConsecutiveFrameTimeout: "number",
  txPadding: "number",
  wftmax: "number",
  maxFrameSize: "number",
  canFd: "boolean",
  bitrateSwitch: "boolean",
  defaultTargetAddressType: "string",
  rateLimitEnable: "boolean",
  rateLimitMaxBitrate: "number",
  rateLimitWindowSize: "number",
  listenMode: "boolean",
  blockingSend: "boolean",
};

/** The JS type of each address field. */
const ADDRESS_KINDS: Shape = {
  mode: "string",
  txid: "number",
  rxid: "number",
  targetAddress: "number",
  sourceAddress: "number",
  addressExtension: "number",
  physicalId: "number",
  functionalId: "number",
};

/** The JS type of each kernel socket option. */
const KERNEL_KINDS: Shape = {
  frameTxtimeNs: "number",
  rxPadding: "number",
  checkRxPaddingLength: "boolean",
  checkRxPaddingData: "boolean",
  halfDuplex: "boolean",
  forceRxStminNs: "number",
};

/** The JS type of each top-level `IsoTp.open` option (`bus` must be a {@link Bus}). */
const OPEN_KINDS: Shape = {
  interface: "string",
  channel: "string",
  address: "object",
  params: "object",
  stack: "string",
  kernel: "object",
  rxQueueSize: "number",
  host: "string",
  passphrase: "string",
  insecure: "boolean",
  tlsCa: "string",
};

/**
 * Checks the types and shape of `IsoTp.open`'s options (`options.bus must be
 * a Bus, got object`); the native side checks the values.
 */
export function checkOpenOptions(options: unknown): void {
  const o = checkShape<Record<string, unknown>>(checkObject(options, "options"), "options", OPEN_KINDS);
  if (o.bus !== undefined && !(o.bus instanceof Bus)) {
    throw invalid("ERR_INVALID_ARGUMENT", `options.bus must be a Bus (from Bus.open), got ${describe(o.bus)}`);
  }
}

/** `rx_flowcontrol_timeout` → `rxFlowcontrolTimeout`. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Copies `input` with snake_case keys turned camelCase, rejecting unknown
 * keys and, when `kinds` is given, values of the wrong type (named
 * `path.key` in messages).
 */
export function normalizeKeys<T>(
  input: object | null | undefined,
  allowed: ReadonlyArray<keyof T>,
  what: string,
  kinds?: Shape,
  path = what,
): Partial<T> {
  const out: Record<string, unknown> = {};
  if (input === null || input === undefined) return out as Partial<T>;
  if (typeof input !== "object" || Array.isArray(input))
    throw invalid("ERR_INVALID_ARGUMENT", `${path} must be an object, got ${describe(input)}`);
  for (const [key, value] of Object.entries(input)) {
    const name = camelCase(key);
    if (!(allowed as readonly string[]).includes(name)) {
      throw invalid("ERR_INVALID_ARGUMENT", `unknown ${what} '${key}': allowed are ${allowed.join(", ")}`);
    }
    if (value !== undefined && value !== null) out[name] = value;
  }
  if (kinds) checkShape(out, path, kinds);
  return out as Partial<T>;
}

/** Normalized parameters. */
export function normalizeParams(params: object | undefined): IsoTpParams {
  const p = normalizeKeys<IsoTpParams>(params, PARAM_KEYS, "ISO-TP parameter", PARAM_KINDS, "params");
  if (typeof p.defaultTargetAddressType === "string") {
    p.defaultTargetAddressType = p.defaultTargetAddressType.toLowerCase() as "physical" | "functional";
  }
  return p;
}

/** The native form of an address: `{ both }` or `{ tx, rx }`. */
export function normalizeAddress(address: IsoTpAddress | undefined): {
  both?: IsoTpAddressConfig;
  tx?: IsoTpAddressConfig;
  rx?: IsoTpAddressConfig;
} {
  if (!address || typeof address !== "object") {
    throw invalid("ERR_INVALID_ARGUMENT", "an ISO-TP address is required, e.g. { txid: 0x7e0, rxid: 0x7e8 }");
  }
  if ("tx" in address || "rx" in address) {
    const { tx, rx } = address as { tx?: IsoTpAddressConfig; rx?: IsoTpAddressConfig };
    const out: { tx?: IsoTpAddressConfig; rx?: IsoTpAddressConfig } = {};
    if (tx) out.tx = normalizeKeys<IsoTpAddressConfig>(tx, ADDRESS_KEYS, "address field", ADDRESS_KINDS, "address.tx");
    if (rx) out.rx = normalizeKeys<IsoTpAddressConfig>(rx, ADDRESS_KEYS, "address field", ADDRESS_KINDS, "address.rx");
    return out;
  }
  return { both: normalizeKeys<IsoTpAddressConfig>(address, ADDRESS_KEYS, "address field", ADDRESS_KINDS, "address") };
}
