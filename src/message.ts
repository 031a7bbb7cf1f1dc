/**
 * The CAN message model: python-can's fields in camelCase, validated as
 * python-can's `Message(check=True)`. The facade coerces (arrays to bytes,
 * defaults, seconds to nanoseconds); the frame rules are the native
 * `Frame::validate`, the same check every send runs.
 *
 * @module
 */
import { binding } from "./binding.js";
import { fdLengthToDlc } from "./dlc.js";
import { decodeErrorFrame, type ErrorFrameInfo } from "./error-frame.js";
import { invalid, native } from "./errors.js";
import { formatMessage, type MessageEqualsOptions, messagesEqual } from "./message-text.js";
import { checkObject, checkShape, type Shape, wrongType } from "./options.js";

/**
 * What a message is built from. Only `id` is required.
 *
 * Defaults: a standard (11-bit) data frame on classic CAN, no data,
 * `dlc` = data length, `isRx` true, timestamp 0. Unlike python-can,
 * `extended` defaults to `false`: a 29-bit id needs `extended: true`
 * (nothing is guessed from the id's size).
 */
export interface MessageInit {
  /** Identifier: 0..0x7FF standard, 0..0x1FFFFFFF extended (error frames: the error class bits). */
  id: number;
  /** 29-bit identifier. Default `false`. */
  extended?: boolean;
  /** Remote transmission request. Carries no data; `dlc` is the requested length 0..8. */
  remote?: boolean;
  /** Error frame. */
  error?: boolean;
  /** CAN FD frame: up to 64 bytes in lengths 0..8, 12, 16, 20, 24, 32, 48, 64. */
  fd?: boolean;
  /** FD bit rate switch. Only on FD frames. */
  bitrateSwitch?: boolean;
  /** FD error state indicator. Only on FD frames. */
  errorStateIndicator?: boolean;
  /**
   * The FD frame carries SocketCAN's explicit FD mark (CANFD_FDF, candump's
   * `##5`); text output keeps it. Only on FD frames. Default `false`.
   */
  fdf?: boolean;
  /** Data length in bytes (the requested length for remote frames). Must equal `data.length` on data frames. */
  dlc?: number;
  /** The raw 4-bit DLC code, when it differs from the length: classic frames with 8 bytes may use 9..15. */
  dlcCode?: number;
  /** Payload bytes. */
  data?: ArrayLike<number>;
  /** Seconds since the Unix epoch, as a float (about 0.2 µs resolution today). */
  timestamp?: number;
  /** Nanoseconds since the Unix epoch; takes precedence over `timestamp` and keeps full resolution. */
  timestampNs?: bigint;
  /** Channel name. */
  channel?: string;
  /** Received (true) or transmitted by this bus (false). Default `true`. */
  isRx?: boolean;
}

/** The JS type of each {@link MessageInit} key but the flags, which {@link flag} reads. */
const MESSAGE_KINDS: Shape = {
  id: "number",
  dlc: "number",
  dlcCode: "number",
  data: ["Uint8Array", "array", "object"],
  timestamp: "number",
  timestampNs: "bigint",
  channel: "string",
};

/**
 * True when every key of {@link MESSAGE_KINDS} is absent or of its type: the
 * same check as `checkShape(init, name, MESSAGE_KINDS)` without a keyed
 * lookup per key, since messages are built per frame. On false, `checkShape`
 * names the key.
 */
function hasMessageShape(init: MessageInit): boolean {
  const { id, dlc, dlcCode, data, timestamp, timestampNs, channel } = init;
  return (
    (id === undefined || typeof id === "number") &&
    (dlc === undefined || typeof dlc === "number") &&
    (dlcCode === undefined || typeof dlcCode === "number") &&
    // a Uint8Array, an array or another object
    (data === undefined || (typeof data === "object" && data !== null)) &&
    (timestamp === undefined || typeof timestamp === "number") &&
    (timestampNs === undefined || typeof timestampNs === "bigint") &&
    (channel === undefined || typeof channel === "string")
  );
}

/** The largest timestamp in seconds whose nanoseconds fit the record's u64. */
const MAX_TIMESTAMP_S = Number((1n << 64n) - 1n) / 1e9;

/** A flag given as a boolean, 0 or 1, as the boolean; anything else is a wrong type. */
function flag(value: unknown, key: string, name: string): boolean {
  if (value === true || value === 1) return true;
  if (value === false || value === 0) return false;
  throw wrongType(`${name}.${key}`, "boolean", value);
}

/** The record flag bits (`record.ts`'s `Flag`) that a message's flags set. */
const FLAG = { EXTENDED: 1, REMOTE: 2, ERROR: 4, FD: 8, BRS: 16, ESI: 32, FDF: 128 } as const;

/**
 * The record flag bits of `init`'s flags, each checked by {@link flag} when
 * given (a call only then: messages are built per frame, most with few flags).
 */
function flagBitsOf(init: MessageInit, name: string): number {
  const { extended, remote, error, fd, bitrateSwitch, errorStateIndicator, fdf } = init;
  return (
    (extended !== undefined && flag(extended, "extended", name) ? FLAG.EXTENDED : 0) |
    (remote !== undefined && flag(remote, "remote", name) ? FLAG.REMOTE : 0) |
    (error !== undefined && flag(error, "error", name) ? FLAG.ERROR : 0) |
    (fd !== undefined && flag(fd, "fd", name) ? FLAG.FD : 0) |
    (bitrateSwitch !== undefined && flag(bitrateSwitch, "bitrateSwitch", name) ? FLAG.BRS : 0) |
    (errorStateIndicator !== undefined && flag(errorStateIndicator, "errorStateIndicator", name) ? FLAG.ESI : 0) |
    (fdf !== undefined && flag(fdf, "fdf", name) ? FLAG.FDF : 0)
  );
}

function isByte(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 255;
}

/**
 * One CAN or CAN FD message. Immutable once built; every field is checked
 * by the constructor, which throws an {@link InvalidArgumentError} with a
 * code per rule (`ERR_ID_OUT_OF_RANGE`, `ERR_DATA_TOO_LONG`,
 * `ERR_INVALID_FD_LENGTH`, `ERR_DLC_MISMATCH`, `ERR_INVALID_DLC`,
 * `ERR_REMOTE_CONFLICT`, `ERR_FLAGS_REQUIRE_FD`, `ERR_INVALID_TIMESTAMP`,
 * `ERR_INVALID_ARGUMENT`).
 *
 * @example
 * ```ts
 * const m = new Message({ id: 0x123, data: [0xde, 0xad] });
 * const fd = new Message({ id: 0x1abcdef, extended: true, fd: true, bitrateSwitch: true, data: new Uint8Array(64) });
 * ```
 */
export class Message {
  /** Identifier (error frames: the error class bits). */
  readonly id: number;
  /** 29-bit identifier. */
  readonly extended: boolean;
  /** Remote transmission request. */
  readonly remote: boolean;
  /** Error frame. */
  readonly error: boolean;
  /** CAN FD frame. */
  readonly fd: boolean;
  /** FD bit rate switch. */
  readonly bitrateSwitch: boolean;
  /** FD error state indicator. */
  readonly errorStateIndicator: boolean;
  /** The FD frame carried SocketCAN's explicit FD mark (CANFD_FDF); see {@link MessageInit.fdf}. */
  readonly fdf: boolean;
  /** Data length in bytes; for remote frames the requested length. */
  readonly dlc: number;
  /** The raw 4-bit DLC code on the wire. */
  readonly dlcCode: number;
  /** Payload (empty for remote frames). */
  readonly data: Uint8Array;
  /** Nanoseconds since the Unix epoch. */
  readonly timestampNs: bigint;
  /** Channel name, if known. */
  readonly channel: string | undefined;
  /**
   * Received (true) or transmitted by this bus (false). On SocketCAN, false
   * for every frame the kernel marks as sent from this host (MSG_DONTROUTE,
   * as python-can reads it): own messages and those of local tools like cansend.
   */
  readonly isRx: boolean;

  /** Set while records from the native side are decoded: they were validated there. */
  static #trusted = false;

  /** What messages call the init being checked (`message`, `messages[3]`). */
  static #name = "message";

  /** @internal Builds a message from `input`, naming it `name` in errors. */
  static named(input: unknown, name: string): Message {
    if (input instanceof Message) return input;
    if (name === Message.#name) return new Message(input as MessageInit);
    const previous = Message.#name;
    Message.#name = name;
    try {
      return new Message(input as MessageInit);
    } finally {
      Message.#name = previous;
    }
  }

  /** @internal Builds messages from already-validated fields, skipping the checks. */
  static trusted<T>(build: () => T): T {
    Message.#trusted = true;
    try {
      return build();
    } finally {
      Message.#trusted = false;
    }
  }

  constructor(init: MessageInit) {
    if (Message.#trusted) {
      this.id = init.id;
      this.extended = init.extended ?? false;
      this.remote = init.remote ?? false;
      this.error = init.error ?? false;
      this.fd = init.fd ?? false;
      this.bitrateSwitch = init.bitrateSwitch ?? false;
      this.errorStateIndicator = init.errorStateIndicator ?? false;
      this.fdf = init.fdf ?? false;
      this.dlc = init.dlc ?? 0;
      this.dlcCode = init.dlcCode ?? 0;
      this.data = init.data as Uint8Array;
      this.timestampNs = init.timestampNs ?? 0n;
      this.channel = init.channel;
      this.isRx = init.isRx ?? true;
      return;
    }
    const name = Message.#name;
    // checkObject and checkShape (which name the culprit) only when the inline checks fail
    if (typeof init !== "object" || init === null || Array.isArray(init)) checkObject(init, name);
    if (!hasMessageShape(init)) checkShape<MessageInit>(init as unknown as Record<string, unknown>, name, MESSAGE_KINDS);
    const flags = flagBitsOf(init, name);
    const remote = (flags & FLAG.REMOTE) !== 0;
    const fd = (flags & FLAG.FD) !== 0;
    const id = init.id;
    // coercion into the record's fields; the frame rules are checked natively below
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw invalid("ERR_INVALID_ARGUMENT", `id must be a non-negative integer, got ${String(id)}`);
    }
    const data = init.data;
    const length = dataLength(data, name);
    if (length > 64) throw tooLong(fd, length); // before anything is allocated for it
    const givenDlc = init.dlc;
    const givenCode = init.dlcCode;
    let dlc: number;
    let dlcCode: number;
    if (remote) {
      // `dlc` is the requested length, a field the record has no room for
      dlc = givenDlc ?? 0;
      if (!Number.isInteger(dlc) || dlc < 0 || dlc > 8) {
        throw invalid("ERR_INVALID_DLC", `a remote frame requests 0..8 bytes, got dlc ${String(givenDlc)}`);
      }
      dlcCode = checkCode(givenCode, dlc, dlc === 8 ? [8, 15] : [dlc, dlc]);
    } else {
      dlc = length;
      if (givenDlc !== undefined && givenDlc !== dlc) {
        throw invalid("ERR_DLC_MISMATCH", `dlc ${String(givenDlc)} does not match ${dlc} data bytes`);
      }
      dlcCode = givenCode ?? (fd ? (fdLengthToDlc(length) ?? 0) : length);
      if (!Number.isInteger(dlcCode) || dlcCode < 0 || dlcCode > 255) {
        throw invalid("ERR_INVALID_DLC", `dlcCode ${String(dlcCode)} is out of range: allowed 0..15`);
      }
    }
    checkFrame(id, flags, length, dlcCode);

    this.id = id;
    this.extended = (flags & FLAG.EXTENDED) !== 0;
    this.remote = remote;
    this.error = (flags & FLAG.ERROR) !== 0;
    this.fd = fd;
    this.bitrateSwitch = (flags & FLAG.BRS) !== 0;
    this.errorStateIndicator = (flags & FLAG.ESI) !== 0;
    this.fdf = (flags & FLAG.FDF) !== 0;
    this.dlc = dlc;
    this.dlcCode = dlcCode;
    this.data = toBytes(data, length);
    this.timestampNs = toTimestampNs(init);
    this.channel = init.channel;
    const isRx = init.isRx;
    this.isRx = isRx === undefined || flag(isRx, "isRx", name);
  }

  #errorInfo: ErrorFrameInfo | undefined;

  /**
   * For an error frame, its decoded fields (bus-off, controller warning and
   * passive levels, protocol violation type and location, transceiver, lost
   * arbitration bit, ACK, restart, error counters); `undefined` otherwise.
   * Computed on first access.
   */
  get errorInfo(): ErrorFrameInfo | undefined {
    if (!this.error) return undefined;
    this.#errorInfo ??= decodeErrorFrame(this.id, this.data);
    return this.#errorInfo;
  }

  /** Seconds since the Unix epoch as a float (see {@link Message.timestampNs} for full resolution). */
  get timestamp(): number {
    const ns = this.timestampNs;
    return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
  }

  /** A plain object with every field, for logging and JSON. */
  toJSON(): Record<string, unknown> {
    return {
      timestamp: this.timestamp,
      timestampNs: this.timestampNs.toString(),
      id: this.id,
      extended: this.extended,
      remote: this.remote,
      error: this.error,
      fd: this.fd,
      bitrateSwitch: this.bitrateSwitch,
      errorStateIndicator: this.errorStateIndicator,
      fdf: this.fdf,
      dlc: this.dlc,
      dlcCode: this.dlcCode,
      data: Buffer.from(this.data).toString("hex"),
      channel: this.channel,
      isRx: this.isRx,
    };
  }

  /**
   * Whether `other` is the same message, as python-can's `Message.equals`:
   * every field, the timestamps within 1 µs, the channels and directions
   * too by default (see {@link MessageEqualsOptions}).
   */
  equals(other: Message, options?: MessageEqualsOptions): boolean {
    return messagesEqual(this, other, options);
  }

  /** One line laid out as python-can's `str(Message)`: timestamp, id, flags, DL, data, channel. */
  toString(): string {
    return formatMessage(this);
  }

  /** `util.inspect` and `console.log` show {@link Message.toString}'s line. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return formatMessage(this);
  }
}

/**
 * Headers the native rules accepted: the verdict of `Frame::validate` depends
 * only on (id, flags, length, DLC code), so a stream of messages with the same
 * few headers crosses to Rust once per header, not once per message. A
 * direct-mapped table indexed by the id's low bits (two typed-array reads per
 * message, no hashing): a header that meets another in its slot replaces it.
 */
const ACCEPTED_SLOTS = 4096;
const acceptedIds = new Uint32Array(ACCEPTED_SLOTS);
/** The (flags, length, DLC code) bits accepted with `acceptedIds[slot]`; -1: none yet. */
const acceptedHeaders = new Int32Array(ACCEPTED_SLOTS).fill(-1);

/** Checks the frame by the native frame rules (`Frame::validate`), the one validator. */
function checkFrame(id: number, flags: number, length: number, dlcCode: number): void {
  // flags < 2^8, length <= 64 and dlcCode <= 255 are checked before this point
  const header = (flags << 16) | (length << 8) | dlcCode;
  const slot = (id ^ (id >>> 12) ^ (id >>> 24)) & (ACCEPTED_SLOTS - 1);
  if (acceptedHeaders[slot] !== header || acceptedIds[slot] !== id) checkNatively(id, flags, length, dlcCode, slot, header);
}

/** The native check of a header not in the table; an accepted one is entered under `slot`. */
function checkNatively(id: number, flags: number, length: number, dlcCode: number, slot: number, header: number): void {
  native(() => binding.checkFrame(id, flags, length, dlcCode));
  acceptedIds[slot] = id;
  acceptedHeaders[slot] = header;
}

/** More than 64 bytes: no frame holds them (refused before allocating, in the words `Frame::validate` uses). */
function tooLong(fd: boolean, length: number) {
  return fd
    ? invalid("ERR_DATA_TOO_LONG", `an FD frame carries at most 64 bytes, got ${length}`)
    : invalid("ERR_DATA_TOO_LONG", `a classic frame carries at most 8 bytes, got ${length}; set fd: true for up to 64`);
}

/** The length of `data`, checked before anything is allocated for it. */
function dataLength(data: ArrayLike<number> | undefined, name: string): number {
  if (data === undefined) return 0;
  const length: unknown = data.length;
  if (typeof length !== "number") {
    throw invalid("ERR_INVALID_ARGUMENT", `${name}.data must be a Uint8Array or an array of bytes`);
  }
  if (!Number.isInteger(length) || length < 0) {
    throw invalid("ERR_INVALID_ARGUMENT", `${name}.data.length must be an integer >= 0, got ${String(length)}`);
  }
  return length;
}

/** `data` (of the checked `length`, at most 64) copied into bytes. */
function toBytes(data: ArrayLike<number> | undefined, length: number): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof Uint8Array) return new Uint8Array(data);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const value = data[i] as number;
    if (!isByte(value)) {
      throw invalid("ERR_INVALID_ARGUMENT", `data[${i}] is ${String(value)}: bytes are integers 0..255`);
    }
    bytes[i] = value;
  }
  return bytes;
}

function checkCode(given: number | undefined, fallback: number, [lo, hi]: [number, number]): number {
  if (given === undefined) return fallback;
  if (!Number.isInteger(given) || given < 0 || given > 15) {
    throw invalid("ERR_INVALID_DLC", `dlcCode ${String(given)} is out of range: allowed 0..15`);
  }
  if (given < lo || given > hi) {
    const allowed = lo === hi ? `${lo}` : `${lo}..${hi}`;
    throw invalid("ERR_DLC_MISMATCH", `dlcCode ${given} does not match this frame: allowed ${allowed}`);
  }
  return given;
}

function toTimestampNs(init: MessageInit): bigint {
  const given = init.timestampNs;
  if (given !== undefined) {
    if (typeof given !== "bigint" || given < 0n || given >= TWO_POW_64) {
      throw invalid("ERR_INVALID_TIMESTAMP", `timestampNs must be a bigint in 0..2^64-1, got ${String(given)}`);
    }
    return given;
  }
  const ts = init.timestamp ?? 0;
  if (ts === 0) return 0n;
  if (typeof ts !== "number" || !Number.isFinite(ts) || ts < 0 || ts > MAX_TIMESTAMP_S) throw timestampOutOfRange(ts);
  const whole = Math.floor(ts);
  const ns = BigInt(whole) * 1_000_000_000n + BigInt(Math.round((ts - whole) * 1e9));
  if (ns >= TWO_POW_64) throw timestampOutOfRange(ts);
  return ns;
}

const TWO_POW_64 = 1n << 64n;

function timestampOutOfRange(ts: unknown) {
  return invalid(
    "ERR_INVALID_TIMESTAMP",
    `timestamp must be a finite number of seconds >= 0 whose nanoseconds fit 64 bits (< ${MAX_TIMESTAMP_S}), got ${String(ts)}`,
  );
}
