/**
 * ISO-TP configuration: addresses and parameters as python-can-isotp names
 * them, in camelCase, with the seed's snake_case names accepted too.
 *
 * @module
 */
import { invalid } from "./errors.js";

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

/** `rx_flowcontrol_timeout` → `rxFlowcontrolTimeout`. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Copies `input` with snake_case keys turned camelCase, rejecting unknown keys. */
export function normalizeKeys<T>(input: object | null | undefined, allowed: ReadonlyArray<keyof T>, what: string): Partial<T> {
  const out: Record<string, unknown> = {};
  if (input === null || input === undefined) return out as Partial<T>;
  if (typeof input !== "object") throw invalid("ERR_INVALID_ARGUMENT", `${what} must be an object`);
  for (const [key, value] of Object.entries(input)) {
    const name = camelCase(key);
    if (!(allowed as readonly string[]).includes(name)) {
      throw invalid("ERR_INVALID_ARGUMENT", `unknown ${what} '${key}': allowed are ${allowed.join(", ")}`);
    }
    if (value !== undefined && value !== null) out[name] = value;
  }
  return out as Partial<T>;
}

/** Normalized parameters. */
export function normalizeParams(params: object | undefined): IsoTpParams {
  const p = normalizeKeys<IsoTpParams>(params, PARAM_KEYS, "ISO-TP parameter");
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
    if (tx) out.tx = normalizeKeys<IsoTpAddressConfig>(tx, ADDRESS_KEYS, "address field");
    if (rx) out.rx = normalizeKeys<IsoTpAddressConfig>(rx, ADDRESS_KEYS, "address field");
    return out;
  }
  return { both: normalizeKeys<IsoTpAddressConfig>(address, ADDRESS_KEYS, "address field") };
}
