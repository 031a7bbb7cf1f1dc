/**
 * Field decoding for `canwire view -d ID:FORMAT[:SCALE...]`, as python-can's
 * viewer does it: FORMAT is a Python `struct` format applied to the whole
 * payload of frames with that id (hex), each value divided by its SCALE
 * (whole-number division for a whole-number scale, `7 // 2` = 3; ordinary
 * division for a decimal one, `7 / 2.0` = 3.5). As there, with scales given
 * only as many values are shown as there are scales, and a payload whose
 * length is not the format's size shows no values.
 *
 * Format characters: byte order `@` (native, aligned: the default), `=`
 * (native, standard sizes), `<` little, `>` or `!` big endian; `x` pad
 * byte, `c` char, `?` bool, `b`/`B` 8-bit, `h`/`H` 16-bit, `i`/`I` and
 * `l`/`L` 32-bit (`l`/`L` 64-bit in native mode on 64-bit Unix), `q`/`Q`
 * 64-bit, `n`/`N`/`P` (native mode only), `e` half, `f` float, `d` double,
 * `Ns` N bytes; a count before any other character repeats it.
 *
 * @module
 * @internal
 */
import { fixed6 } from "../message-text.js";

/** A decoded value, kept apart by Python type (a float prints with 6 decimals even when whole). */
export type FieldValue =
  | { kind: "int"; value: number | bigint }
  | { kind: "float"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "bytes"; value: Uint8Array };

/** One item of a format: its character, byte offset and size. */
interface FieldItem {
  code: string;
  offset: number;
  size: number;
}

/** A parsed struct format. */
export interface StructFormat {
  /** The format as written. */
  text: string;
  /** Bytes a payload must have. */
  size: number;
  littleEndian: boolean;
  items: readonly FieldItem[];
}

/** A scale: whole-number division when `integer`, else ordinary division. */
export interface Scale {
  value: number;
  integer: boolean;
}

/** How one id's payload is decoded. */
export interface FieldDecoder {
  id: number;
  format: StructFormat;
  scales: readonly Scale[];
}

const NATIVE_LONG = process.platform === "win32" ? 4 : 8;

/** Standard sizes (`=`, `<`, `>`, `!`). */
const STANDARD_SIZES: Readonly<Record<string, number>> = {
  x: 1,
  c: 1,
  b: 1,
  B: 1,
  "?": 1,
  h: 2,
  H: 2,
  i: 4,
  I: 4,
  l: 4,
  L: 4,
  q: 8,
  Q: 8,
  e: 2,
  f: 4,
  d: 8,
  s: 1,
};

/** Native sizes (`@`), which add `n`, `N` and `P`. */
const NATIVE_SIZES: Readonly<Record<string, number>> = { ...STANDARD_SIZES, l: NATIVE_LONG, L: NATIVE_LONG, n: 8, N: 8, P: 8 };

/** Parses a Python `struct` format; a message saying what is wrong otherwise. */
export function parseStructFormat(text: string): StructFormat | string {
  let rest = text;
  let native = true;
  let littleEndian = true; // the machines canwire runs on are little-endian
  const order = rest[0];
  if (order !== undefined && "@=<>!".includes(order)) {
    native = order === "@";
    littleEndian = order === "@" || order === "=" || order === "<";
    rest = rest.slice(1);
  }
  const sizes = native ? NATIVE_SIZES : STANDARD_SIZES;
  const items: FieldItem[] = [];
  let offset = 0;
  for (const match of rest.matchAll(/\s*(?:([0-9]*)(\S))/gu)) {
    const [, countText = "", code = ""] = match;
    const size = sizes[code];
    if (size === undefined) return `'${code}' is not a struct format character${native ? "" : " in standard mode"}`;
    const count = countText === "" ? 1 : Number(countText);
    if (native && code !== "s" && size > 1) offset = Math.ceil(offset / size) * size; // native alignment
    if (code === "s") {
      items.push({ code, offset, size: count });
      offset += count;
    } else {
      for (let i = 0; i < count; i++) {
        if (code !== "x") items.push({ code, offset, size });
        offset += size;
      }
    }
  }
  return { text, size: offset, littleEndian, items };
}

/**
 * Parses one `-d` argument, `ID:FORMAT[:SCALE...]` (ID in hex); a message
 * saying what is wrong otherwise. A scale is whole (`10`) or decimal (`10.0`).
 */
export function parseDecoder(spec: string): FieldDecoder | string {
  const [idText = "", formatText, ...scaleTexts] = spec.split(":");
  const idClean = idText.trim().replace(/^0x/iu, "");
  if (!/^[0-9a-f]+$/iu.test(idClean)) return `'${spec}': the ID before ':' is a hex number, e.g. 100:<BHL`;
  if (formatText === undefined) return `'${spec}': give ID:FORMAT, e.g. 100:<BHL`;
  const format = parseStructFormat(formatText);
  if (typeof format === "string") return `'${spec}': ${format}`;
  const scales: Scale[] = [];
  for (const [i, scaleText] of scaleTexts.entries()) {
    const trimmed = scaleText.trim();
    const integer = /^[-+]?[0-9]+$/u.test(trimmed);
    const value = Number(trimmed);
    if (trimmed === "" || Number.isNaN(value)) return `'${spec}': scale '${scaleText}' is not a number`;
    if (value === 0) return `'${spec}': scale ${i + 1} is 0 (values are divided by it)`;
    const item = format.items[i];
    if (item !== undefined && (item.code === "c" || item.code === "s")) {
      return `'${spec}': value ${i + 1} ('${item.code}') is bytes and cannot be scaled`;
    }
    scales.push({ value, integer });
  }
  return { id: Number.parseInt(idClean, 16), format, scales };
}

/** The values of `data` under `format`, or `undefined` when its length is not the format's size. */
export function unpack(format: StructFormat, data: Uint8Array): FieldValue[] | undefined {
  if (data.length !== format.size) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const le = format.littleEndian;
  return format.items.map(({ code, offset, size }): FieldValue => {
    switch (code) {
      case "c":
      case "s":
        return { kind: "bytes", value: data.slice(offset, offset + size) };
      case "?":
        return { kind: "bool", value: data[offset] !== 0 };
      case "b":
        return { kind: "int", value: view.getInt8(offset) };
      case "B":
        return { kind: "int", value: view.getUint8(offset) };
      case "h":
        return { kind: "int", value: view.getInt16(offset, le) };
      case "H":
        return { kind: "int", value: view.getUint16(offset, le) };
      case "e":
        return { kind: "float", value: halfToNumber(view.getUint16(offset, le)) };
      case "f":
        return { kind: "float", value: view.getFloat32(offset, le) };
      case "d":
        return { kind: "float", value: view.getFloat64(offset, le) };
      default: {
        const signed = code === "i" || code === "l" || code === "q" || code === "n";
        if (size === 4) return { kind: "int", value: signed ? view.getInt32(offset, le) : view.getUint32(offset, le) };
        return { kind: "int", value: signed ? view.getBigInt64(offset, le) : view.getBigUint64(offset, le) };
      }
    }
  });
}

/** IEEE 754 half precision bits as a number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * The decoded fields of a payload as python-can's viewer prints them
 * (floats with 6 decimals, integers and bools as Python writes them, bytes
 * as `b'..'`), joined by spaces; `undefined` when the payload does not fit.
 */
export function decodeFields(decoder: FieldDecoder, data: Uint8Array): string | undefined {
  const values = unpack(decoder.format, data);
  if (values === undefined) return undefined;
  const shown =
    decoder.scales.length === 0 ? values : values.slice(0, decoder.scales.length).map((v, i) => scaled(v, decoder.scales[i] as Scale));
  return shown.map(pythonText).join(" ");
}

/** `value // scale` for a whole-number scale, `float(value) / scale` otherwise (bytes are refused when parsing). */
function scaled(field: FieldValue, scale: Scale): FieldValue {
  if (field.kind === "bytes") return field;
  const value = field.kind === "bool" ? (field.value ? 1 : 0) : field.value;
  if (!scale.integer) return { kind: "float", value: Number(value) / scale.value };
  if (typeof value === "bigint") {
    const divisor = BigInt(scale.value);
    const quotient = value / divisor;
    const inexact = value % divisor !== 0n;
    return { kind: "int", value: inexact && value < 0n !== divisor < 0n ? quotient - 1n : quotient };
  }
  return { kind: field.kind === "float" ? "float" : "int", value: Math.floor(value / scale.value) };
}

/** Python's text of a value in the viewer: `f"{x:.6f}"` for floats, `str()` otherwise. */
function pythonText(field: FieldValue): string {
  switch (field.kind) {
    case "float":
      return float6(field.value);
    case "bytes":
      return bytesRepr(field.value);
    case "bool":
      return field.value ? "True" : "False";
    default:
      return String(field.value);
  }
}

/** `f"{x:.6f}"` for any float. */
export function float6(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return x < 0 || Object.is(x, -0) ? `-${fixed6(-x)}` : fixed6(x);
}

/** Python's `repr(bytes)`. */
function bytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = "";
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (b === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (b === 0x09) out += "\\t";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, "0")}`;
    else out += String.fromCharCode(b);
  }
  return `b${quote}${out}${quote}`;
}
