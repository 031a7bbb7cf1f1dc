/**
 * A message as people read it: the one-line layout of python-can's
 * `str(Message)` (what `print(msg)` shows there), and python-can's
 * `Message.equals` comparison. {@link Message} delegates `toString()`,
 * `util.inspect` and `equals()` here.
 *
 * ```text
 * Timestamp: 1700000000.123456    ID:      123    S Rx                DL:  3    01 02 03                    Channel: vcan0
 * ```
 *
 * Fields, joined by four spaces, trailing whitespace removed: the timestamp
 * in seconds with 6 decimals right-aligned in 15 columns; the id in hex,
 * 8 digits for extended ids and 3 for standard ones, right-aligned in 8; the
 * flags `X`/`S` (extended/standard), `Rx`/`Tx`, `E` (error), `R` (remote),
 * `F` (FD), `BS` (bit rate switch), `EI` (error state indicator), each a
 * blank of its width when unset; `DL:` and the data length in 2 columns; the
 * data bytes in hex, padded to 24 columns; the data as text in quotes when
 * every byte is an ASCII letter or digit; `Channel:` and the channel, if any.
 *
 * @module
 */
import { invalid } from "./errors.js";
import type { Message } from "./message.js";
import { checkOptions, type Shape } from "./options.js";

/** How {@link Message.equals} compares; the defaults are python-can's. */
export interface MessageEqualsOptions {
  /**
   * The largest difference of the two timestamps, in nanoseconds, at which
   * they still count as equal; `null` ignores timestamps. Default `1000n`
   * (python-can's `timestamp_delta=1e-6` seconds).
   */
  timestampDeltaNs?: bigint | number | null;
  /** Compare the channels. Default true. */
  checkChannel?: boolean;
  /** Compare the directions (`isRx`). Default true. */
  checkDirection?: boolean;
}

const EQUALS_OPTION_KINDS: Shape = {
  timestampDeltaNs: ["bigint", "number"],
  checkChannel: "boolean",
  checkDirection: "boolean",
};

/** python-can's default `timestamp_delta`, 1 µs. */
const DEFAULT_TIMESTAMP_DELTA_NS = 1000n;

/** The fields the text is made of: what a {@link Message} has. */
type MessageFields = Pick<
  Message,
  | "timestamp"
  | "id"
  | "extended"
  | "isRx"
  | "error"
  | "remote"
  | "fd"
  | "bitrateSwitch"
  | "errorStateIndicator"
  | "dlc"
  | "data"
  | "channel"
>;

/** The message on one line, laid out as python-can's `str(Message)` (see the module doc). */
export function formatMessage(m: MessageFields): string {
  const id = m.id.toString(16).padStart(m.extended ? 8 : 3, "0");
  const flags = [
    m.extended ? "X" : "S",
    m.isRx ? "Rx" : "Tx",
    m.error ? "E" : " ",
    m.remote ? "R" : " ",
    m.fd ? "F" : " ",
    m.bitrateSwitch ? "BS" : "  ",
    m.errorStateIndicator ? "EI" : "  ",
  ].join(" ");
  const shown = m.data.subarray(0, Math.min(m.dlc, m.data.length));
  const fields = [
    `Timestamp: ${fixed6(m.timestamp).padStart(15)}`,
    `ID: ${id.padStart(8)}`,
    flags,
    `DL: ${String(m.dlc).padStart(2)}`,
    Array.from(shown, hexByte).join(" ").padEnd(24),
  ];
  if (isAsciiAlphanumeric(m.data)) fields.push(`'${String.fromCharCode(...m.data)}'`);
  if (m.channel !== undefined) fields.push(`Channel: ${m.channel}`);
  return trimPythonWhitespace(fields.join("    "));
}

/**
 * Whether two messages are equal as python-can's `Message.equals` decides:
 * id, extended, remote, error, fd, bit rate switch, error state indicator,
 * data length and data bytes always (and the raw DLC code, which python-can
 * keeps in `dlc`); the timestamps within `timestampDeltaNs`, the channels
 * and the directions unless switched off. A message always equals itself.
 */
export function messagesEqual(a: Message, b: Message, options?: MessageEqualsOptions): boolean {
  if (typeof b !== "object" || b === null || !(b.data instanceof Uint8Array)) {
    throw invalid("ERR_INVALID_ARGUMENT", `equals compares with a Message, got ${b === null ? "null" : typeof b}`);
  }
  const { delta, checkChannel, checkDirection } = equalsOptions(options);
  if (a === b) return true;
  return (
    (delta === null || absDiff(a.timestampNs, b.timestampNs) <= delta) &&
    (!checkDirection || a.isRx === b.isRx) &&
    a.id === b.id &&
    a.extended === b.extended &&
    a.dlc === b.dlc &&
    a.dlcCode === b.dlcCode &&
    sameBytes(a.data, b.data) &&
    a.remote === b.remote &&
    a.error === b.error &&
    (!checkChannel || a.channel === b.channel) &&
    a.fd === b.fd &&
    a.bitrateSwitch === b.bitrateSwitch &&
    a.errorStateIndicator === b.errorStateIndicator
  );
}

function equalsOptions(options: MessageEqualsOptions | undefined): {
  delta: bigint | null;
  checkChannel: boolean;
  checkDirection: boolean;
} {
  const given = options?.timestampDeltaNs;
  const checked = checkOptions<MessageEqualsOptions>(
    given === null ? { ...options, timestampDeltaNs: undefined } : options,
    "options",
    EQUALS_OPTION_KINDS,
  );
  let delta: bigint | null = DEFAULT_TIMESTAMP_DELTA_NS;
  if (given === null) delta = null;
  else if (typeof given === "bigint" && given >= 0n) delta = given;
  else if (typeof given === "number" && Number.isSafeInteger(given) && given >= 0) delta = BigInt(given);
  else if (given !== undefined) {
    throw invalid(
      "ERR_INVALID_ARGUMENT",
      `options.timestampDeltaNs must be an integer >= 0 (nanoseconds) or null to ignore timestamps, got ${String(given)}`,
    );
  }
  return { delta, checkChannel: checked.checkChannel ?? true, checkDirection: checked.checkDirection ?? true };
}

function absDiff(a: bigint, b: bigint): bigint {
  return a > b ? a - b : b - a;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/** Python's `bytes.isalnum()`: not empty, and every byte an ASCII letter or digit. */
function isAsciiAlphanumeric(data: Uint8Array): boolean {
  if (data.length === 0) return false;
  for (const b of data) {
    const alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    if (!alnum) return false;
  }
  return true;
}

/**
 * Python's `str.strip()` on text that starts with `Timestamp:`: only its end
 * can carry whitespace, in Python's sense (`str.isspace`: which differs from
 * JS's `trimEnd` on U+001C..U+001F, U+0085 and U+FEFF).
 */
function trimPythonWhitespace(text: string): string {
  let end = text.length;
  while (end > 0 && isPythonSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(0, end);
}

function isPythonSpace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    (c >= 0x1c && c <= 0x20) ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/**
 * `x` with exactly 6 decimals, rounded as Python's `f"{x:.6f}"` does: from the
 * exact binary value, a tie to even (`0.0078125` → `0.007812`, where JS's
 * `toFixed(6)` gives `0.007813`). `x` is finite and >= 0 (a timestamp).
 */
export function fixed6(x: number): string {
  const { mantissa, exponent } = decompose(x);
  let micros: bigint;
  if (exponent >= 0) {
    micros = (mantissa << BigInt(exponent)) * 1_000_000n;
  } else {
    const scaled = mantissa * 1_000_000n;
    const denominator = 1n << BigInt(-exponent);
    micros = scaled / denominator;
    const twiceRest = (scaled % denominator) * 2n;
    if (twiceRest > denominator || (twiceRest === denominator && micros % 2n === 1n)) micros += 1n;
  }
  const whole = micros / 1_000_000n;
  const fraction = (micros % 1_000_000n).toString().padStart(6, "0");
  return `${whole}.${fraction}`;
}

/** A finite double as `mantissa * 2^exponent` with an integer mantissa. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0
    ? { mantissa: fraction, exponent: -1074 } // subnormal
    : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}
