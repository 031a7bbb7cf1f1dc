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

/** Every stable error code. */
export type CanErrorCode =
  | (typeof INVALID_INPUT_CODES)[number]
  | IsoTpErrorCode
  | "ERR_CLOSED"
  | "ERR_TIMEOUT"
  | "ERR_UNSUPPORTED"
  | "ERR_UNKNOWN_INTERFACE"
  | "ERR_OS"
  | "ERR_INTERNAL"
  | "ERR_TX_BUFFER_FULL"
  | "ERR_NOT_CAN_INTERFACE";

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
  /** The errno name, e.g. `ENOBUFS`. */
  readonly errno: string | undefined;

  constructor(message: string, options?: ErrorOptions) {
    super("ERR_TX_BUFFER_FULL", message, options);
    this.errno = /\b(E[A-Z0-9]{2,})\b/.exec(message)?.[1];
  }
}

/** An operating-system call failed (`ERR_OS`); {@link CanOsError.errno} names the errno. */
export class CanOsError extends CanError {
  /** The errno name, e.g. `ENOBUFS`, when known. */
  readonly errno: string | undefined;

  constructor(message: string, options?: ErrorOptions) {
    super("ERR_OS", message, options);
    this.errno = /\b(E[A-Z0-9]{2,})\b/.exec(message)?.[1];
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

/** Builds the right subclass for a code. */
export function canError(code: CanErrorCode, message: string, options?: ErrorOptions): CanError {
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
    default:
      return new InternalError(message, options);
  }
}

const NATIVE_MESSAGE = /^(ERR_[A-Z_]+): ([\s\S]*)$/;

/** Turns an error thrown by the native addon into a typed {@link CanError}. */
export function fromNative(error: unknown): CanError {
  if (error instanceof CanError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const match = NATIVE_MESSAGE.exec(message);
  if (match) return canError(match[1] as CanErrorCode, match[2] ?? "", { cause: error });
  return new InternalError(`native error: ${message}`, { cause: error });
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
