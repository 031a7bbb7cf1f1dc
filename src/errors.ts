/**
 * Typed errors. Every failure canwire reports is a {@link CanError} (or a
 * subclass) with a stable {@link CanError.code}.
 *
 * @module
 */

/** Codes for invalid input; each validation rule has its own. */
export const INVALID_INPUT_CODES = [
  "ERR_INVALID_ARGUMENT",
  "ERR_ID_OUT_OF_RANGE",
  "ERR_DATA_TOO_LONG",
  "ERR_INVALID_FD_LENGTH",
  "ERR_DLC_MISMATCH",
  "ERR_INVALID_DLC",
  "ERR_REMOTE_CONFLICT",
  "ERR_FLAGS_REQUIRE_FD",
  "ERR_INVALID_TIMESTAMP",
  "ERR_FD_NOT_ENABLED",
  "ERR_INVALID_FRAME_SYNTAX",
  "ERR_CORRUPT_FILE",
  "ERR_TRUNCATED_FILE",
] as const;

/** ISO-TP protocol error codes (see the ISO-TP docs for when each occurs). */
export const ISOTP_ERROR_CODES = [
  "ERR_ISOTP_N_BS_TIMEOUT",
  "ERR_ISOTP_N_CR_TIMEOUT",
  "ERR_ISOTP_UNEXPECTED_CF",
  "ERR_ISOTP_UNEXPECTED_FC",
  "ERR_ISOTP_WRONG_SEQUENCE",
  "ERR_ISOTP_OVERFLOW_FC",
  "ERR_ISOTP_WAIT_FRAME_LIMIT",
  "ERR_ISOTP_UNSUPPORTED_WAIT_FRAME",
  "ERR_ISOTP_FRAME_TOO_LONG",
  "ERR_ISOTP_INTERRUPTED_BY_NEW_FRAME",
  "ERR_ISOTP_INVALID_FC",
  "ERR_ISOTP_INVALID_FRAME",
  "ERR_ISOTP_MISSING_ESCAPE_SEQUENCE",
  "ERR_ISOTP_INVALID_RX_DL",
  "ERR_ISOTP_CHANGING_RX_DL",
  "ERR_ISOTP_SEND_STOPPED",
] as const;

/** An ISO-TP protocol error code. */
export type IsoTpErrorCode = (typeof ISOTP_ERROR_CODES)[number];

/** The codes that are neither invalid input nor ISO-TP protocol errors. */
export const OTHER_ERROR_CODES = [
  "ERR_CLOSED",
  "ERR_TIMEOUT",
  "ERR_UNSUPPORTED",
  "ERR_UNKNOWN_INTERFACE",
  "ERR_OS",
  "ERR_INTERNAL",
  "ERR_TX_BUFFER_FULL",
  "ERR_NOT_CAN_INTERFACE",
  "ERR_UNAUTHENTICATED",
  "ERR_PERMISSION_DENIED",
  "ERR_UNREACHABLE",
  "ERR_REMOTE",
] as const;

/** Every stable error code (a spec checks the list equals the native binding's). */
export const CAN_ERROR_CODES = [...INVALID_INPUT_CODES, ...ISOTP_ERROR_CODES, ...OTHER_ERROR_CODES] as const;

/** Every stable error code. */
export type CanErrorCode = (typeof CAN_ERROR_CODES)[number];

/** Machine-readable details some errors carry besides their code. */
export interface CanErrorDetails {
  /** The errno name of the failed OS call (`"ENOBUFS"`). */
  errno?: string;
  /** Frames of the call that went out before it failed. */
  sent?: number;
}

/** Options of the error constructors: the standard `cause` and the details. */
export type CanErrorOptions = ErrorOptions & CanErrorDetails;

/**
 * The base of every canwire error.
 *
 * @example
 * ```ts
 * try {
 *   await bus.send({ id: 0x800, data: [] });
 * } catch (e) {
 *   if (e instanceof CanError && e.code === "ERR_ID_OUT_OF_RANGE") { ... }
 * }
 * ```
 */
export class CanError extends Error {
  /** The stable, machine-readable code. */
  readonly code: CanErrorCode;

  constructor(code: CanErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad input: a frame that breaks a rule, an option out of range, bad text, a corrupt file. */
export class InvalidArgumentError extends CanError {}

/** The bus, reader or task is closed (`ERR_CLOSED`). */
export class BusClosedError extends CanError {
  constructor(message = "the bus is closed", options?: ErrorOptions) {
    super("ERR_CLOSED", message, options);
  }
}

/** An operation did not complete in time (`ERR_TIMEOUT`). */
export class CanTimeoutError extends CanError {
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_TIMEOUT", message, options);
  }
}

/**
 * Not supported on this interface or platform (`ERR_UNSUPPORTED`), or no such
 * interface (`ERR_UNKNOWN_INTERFACE`), or a network interface that is not a CAN
 * interface (`ERR_NOT_CAN_INTERFACE`).
 */
export class UnsupportedError extends CanError {}

/**
 * The transmit queue stayed full for the whole send timeout
 * (`ERR_TX_BUFFER_FULL`); {@link TxBufferFullError.errno} names the kernel's
 * reason (`ENOBUFS`: the device queue, `EAGAIN`: the socket buffer).
 */
export class TxBufferFullError extends CanError {
  /** The errno name, e.g. `ENOBUFS`, when the backend reports one. */
  readonly errno: string | undefined;
  /** Frames of the call that went out before the timeout, when known. */
  readonly sent: number | undefined;

  constructor(message: string, options?: CanErrorOptions) {
    super("ERR_TX_BUFFER_FULL", message, options);
    this.errno = options?.errno;
    this.sent = options?.sent;
  }
}

/** An operating-system call failed (`ERR_OS`); {@link CanOsError.errno} names the errno. */
export class CanOsError extends CanError {
  /** The errno name, e.g. `ENOBUFS`, when known. */
  readonly errno: string | undefined;

  constructor(message: string, options?: CanErrorOptions) {
    super("ERR_OS", message, options);
    this.errno = options?.errno;
  }
}

/** An ISO-TP transfer failed or the protocol saw a problem; `code` says which. */
export class IsoTpError extends CanError {
  constructor(code: IsoTpErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** A bug in canwire, such as a caught native panic (`ERR_INTERNAL`). */
export class InternalError extends CanError {
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_INTERNAL", message, options);
  }
}

const invalidInput = new Set<string>(INVALID_INPUT_CODES);
const isoTpCodes = new Set<string>(ISOTP_ERROR_CODES);
const knownCodes = new Set<string>(CAN_ERROR_CODES);

/** Builds the right subclass for a code. */
export function canError(code: CanErrorCode, message: string, options?: CanErrorOptions): CanError {
  if (invalidInput.has(code)) return new InvalidArgumentError(code, message, options);
  if (isoTpCodes.has(code)) return new IsoTpError(code as IsoTpErrorCode, message, options);
  switch (code) {
    case "ERR_CLOSED":
      return new BusClosedError(message, options);
    case "ERR_TIMEOUT":
      return new CanTimeoutError(message, options);
    case "ERR_UNSUPPORTED":
    case "ERR_UNKNOWN_INTERFACE":
    case "ERR_NOT_CAN_INTERFACE":
      return new UnsupportedError(code, message, options);
    case "ERR_TX_BUFFER_FULL":
      return new TxBufferFullError(message, options);
    case "ERR_OS":
      return new CanOsError(message, options);
    case "ERR_INTERNAL":
      return new InternalError(message, options);
    default:
      // a code the facade does not know: keep it (the code-list spec fails first)
      return new CanError(code, message, options);
  }
}

/**
 * The statuses napi-rs gives a JS value of the wrong type that reached the
 * binding. The facade's own checks ({@link ./options.ts}) should catch those
 * first; if one slips through it is still the caller's wrong type.
 */
const NAPI_TYPE_STATUSES = new Set([
  "InvalidArg",
  "ObjectExpected",
  "StringExpected",
  "NameExpected",
  "FunctionExpected",
  "NumberExpected",
  "BooleanExpected",
  "ArrayExpected",
  "BigintExpected",
  "DateExpected",
  "ArrayBufferExpected",
]);

/**
 * The fields of a canwire error as the binding sends them: one JSON object in
 * the napi error's message (`crates/canwire-node/src/error.rs` documents it).
 */
interface NativeErrorEnvelope {
  canwire: 1;
  code: string;
  message: string;
  errno?: string;
  sent?: number;
}

function decodeEnvelope(text: string): NativeErrorEnvelope | undefined {
  if (!text.startsWith('{"canwire":')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (e.canwire !== 1 || typeof e.code !== "string" || typeof e.message !== "string") return undefined;
  if (e.errno !== undefined && typeof e.errno !== "string") return undefined;
  if (e.sent !== undefined && typeof e.sent !== "number") return undefined;
  return e as unknown as NativeErrorEnvelope;
}

/** `error` as the binding's envelope, for errors JS hands back to Rust (a cyclic modifier's exception). */
export function toEnvelope(error: CanError): string {
  return JSON.stringify({ canwire: 1, code: error.code, message: error.message });
}

/**
 * Turns an error thrown by the native addon (or the envelope text a native
 * callback hands over) into a typed {@link CanError}.
 */
export function fromNative(error: unknown): CanError {
  if (error instanceof CanError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const envelope = decodeEnvelope(message);
  if (envelope) {
    const { code, message: text, errno, sent } = envelope;
    return canError(code as CanErrorCode, text, { cause: error, errno, sent });
  }
  const status = (error as { code?: unknown } | null)?.code;
  if (typeof status === "string" && NAPI_TYPE_STATUSES.has(status)) {
    return new InvalidArgumentError("ERR_INVALID_ARGUMENT", `wrong argument type: ${message}`, { cause: error });
  }
  return new InternalError(`native error: ${message}`, { cause: error });
}

/** Whether `code` is a code this facade knows. */
export function isCanErrorCode(code: string): code is CanErrorCode {
  return knownCodes.has(code);
}

/** Runs a native call, translating what it throws. */
export function native<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw fromNative(error);
  }
}

/** Awaits a native promise, translating its rejection. */
export async function nativeAsync<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromNative(error);
  }
}

/** Shorthand for an {@link InvalidArgumentError}. */
export function invalid(code: (typeof INVALID_INPUT_CODES)[number], message: string): InvalidArgumentError {
  return new InvalidArgumentError(code, message);
}
