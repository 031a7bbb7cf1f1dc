/**
 * {@link BitTiming} and {@link BitTimingFd}: CAN and CAN FD bit timing as
 * python-can 4.6 has them (same constructors, same validation, same derived
 * figures to the last bit, the same `str()` text), computed in the Rust core.
 *
 * @example
 * ```ts
 * const bt = BitTiming.fromSamplePoint({ fClock: 8_000_000, bitrate: 500_000, samplePoint: 87.5 });
 * bt.btr0; // 0x40
 * String(bt); // "BR: 500_000 bit/s, SP: 87.50%, BRP: 1, TSEG1: 13, TSEG2: 2, SJW: 2, BTR: 401Ch, CLK: 8MHz"
 * ```
 *
 * @module
 */
import type * as Native from "../native/index.cjs";
import { binding } from "./binding.js";
import { invalid, native } from "./errors.js";

/** A classic timing by its segments (python-can's `BitTiming(...)`). */
export interface BitTimingInit {
  /** The CAN controller clock in Hz. */
  fClock: number;
  /** Bit rate prescaler, 1..64 (1..32 with `strict`). */
  brp: number;
  /** Quanta from (not including) the sync segment to the sample point, 1..16. */
  tseg1: number;
  /** Quanta from the sample point to the end of the bit, 1..8. */
  tseg2: number;
  /** Synchronization jump width, 1..4 and at most `tseg2`. */
  sjw: number;
  /** Samples per bit: 1 (default) or 3. */
  nofSamples?: number;
  /** Also require ISO 11898's minimum range: 8..25 quanta per bit, brp 1..32, 5 kbit/s..1 Mbit/s. */
  strict?: boolean;
}

/** Options of {@link BitTiming.fromBitrateAndSegments}: the prescaler is derived from the bitrate. */
export interface BitTimingFromBitrateOptions extends Omit<BitTimingInit, "brp"> {
  /** Bitrate in bit/s; the result must be within 1/256 of it. */
  bitrate: number;
}

/** Options of {@link BitTiming.fromRegisters}. */
export interface BitTimingRegisters {
  /** The CAN controller clock in Hz. */
  fClock: number;
  /** SJA1000 BTR0: SJW-1 in bits 7..6, BRP-1 in bits 5..0. */
  btr0: number;
  /** SJA1000 BTR1: SAM (three samples) in bit 7, TSEG2-1 in bits 6..4, TSEG1-1 in bits 3..0. */
  btr1: number;
}

/** Options of {@link BitTiming.fromSamplePoint} and {@link BitTiming.iterateFromSamplePoint}. */
export interface BitTimingSamplePointOptions {
  /** The CAN controller clock in Hz. */
  fClock: number;
  /** Bitrate in bit/s. */
  bitrate: number;
  /** The wanted sample point in percent, at least 50 (default 69, as python-can). */
  samplePoint?: number;
}

/** Options of `oscillatorTolerance()`. */
export interface OscillatorToleranceOptions {
  /** Transceiver loop delay in ns (default 250). */
  nodeLoopDelayNs?: number;
  /** Bus length in m (default 10; signals travel 5 ns/m). */
  busLengthM?: number;
}

/** An FD timing by both phases' segments (python-can's `BitTimingFd(...)`). */
export interface BitTimingFdInit {
  /** The CAN controller clock in Hz. */
  fClock: number;
  /** Nominal (arbitration) phase bit rate prescaler. */
  nomBrp: number;
  /** Nominal phase time segment 1. */
  nomTseg1: number;
  /** Nominal phase time segment 2. */
  nomTseg2: number;
  /** Nominal phase synchronization jump width. */
  nomSjw: number;
  /** Data phase bit rate prescaler. */
  dataBrp: number;
  /** Data phase time segment 1. */
  dataTseg1: number;
  /** Data phase time segment 2. */
  dataTseg2: number;
  /** Data phase synchronization jump width. */
  dataSjw: number;
  /** Also require ISO 11898's minimum range for FD controllers. */
  strict?: boolean;
}

/** Options of {@link BitTimingFd.fromBitrateAndSegments}: both prescalers are derived. */
export interface BitTimingFdFromBitrateOptions extends Omit<BitTimingFdInit, "nomBrp" | "dataBrp"> {
  /** Nominal bitrate in bit/s. */
  nomBitrate: number;
  /** Data bitrate in bit/s. */
  dataBitrate: number;
}

/** Options of {@link BitTimingFd.fromSamplePoint} and {@link BitTimingFd.iterateFromSamplePoint}. */
export interface BitTimingFdSamplePointOptions {
  /** The CAN controller clock in Hz. */
  fClock: number;
  /** Nominal bitrate in bit/s. */
  nomBitrate: number;
  /** Nominal sample point in percent, at least 50. */
  nomSamplePoint: number;
  /** Data bitrate in bit/s. */
  dataBitrate: number;
  /** Data sample point in percent, at least 50. */
  dataSamplePoint: number;
}

/** The type each optional option must have when given. */
const OPTIONAL_TYPES = {
  nofSamples: "number",
  samplePoint: "number",
  strict: "boolean",
  nodeLoopDelayNs: "number",
  busLengthM: "number",
} as const;

/**
 * `options` checked before it crosses to the core: an object with a number
 * under each `required` name, the right type under each `optional` one
 * present, and no other key (a misspelt `samplePoint` must not silently
 * become the default). Ranges are the core's to check.
 */
function checked<T extends object>(
  what: string,
  options: T,
  required: readonly string[],
  optional: readonly (keyof typeof OPTIONAL_TYPES)[] = [],
): T {
  if (typeof options !== "object" || options === null) {
    throw invalid("ERR_INVALID_ARGUMENT", `${what} takes an options object, got ${String(options)}`);
  }
  const record = options as Record<string, unknown>;
  for (const name of required) {
    if (typeof record[name] !== "number") {
      throw invalid("ERR_INVALID_ARGUMENT", `${what}: ${name} must be a number, got ${String(record[name])}`);
    }
  }
  for (const name of optional) {
    const type = OPTIONAL_TYPES[name];
    if (record[name] !== undefined && typeof record[name] !== type) {
      throw invalid("ERR_INVALID_ARGUMENT", `${what}: ${name} must be a ${type}, got ${String(record[name])}`);
    }
  }
  const known = new Set<string>([...required, ...optional]);
  const unknown = Object.keys(record).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw invalid("ERR_INVALID_ARGUMENT", `${what}: unknown option ${unknown.join(", ")} (known: ${[...known].join(", ")})`);
  }
  return options;
}

function tolerance(options: OscillatorToleranceOptions): [number, number] {
  const valid = checked("oscillatorTolerance", options, [], ["nodeLoopDelayNs", "busLengthM"]);
  return [valid.nodeLoopDelayNs ?? 250, valid.busLengthM ?? 10];
}

/**
 * A validated classic CAN bit timing (python-can's `BitTiming`): immutable,
 * every figure read-only. Invalid input throws an `InvalidArgumentError`
 * (`ERR_INVALID_ARGUMENT`) naming the rule it broke.
 */
export class BitTiming {
  /** The CAN controller clock in Hz. */
  readonly fClock: number;
  /** Bit rate prescaler. */
  readonly brp: number;
  /** Time segment 1 in quanta. */
  readonly tseg1: number;
  /** Time segment 2 in quanta. */
  readonly tseg2: number;
  /** Synchronization jump width in quanta. */
  readonly sjw: number;
  /** Samples per bit (1 or 3). */
  readonly nofSamples: number;
  /** Nominal bit time in quanta: 1 + tseg1 + tseg2. */
  readonly nbt: number;
  /** Bitrate in bit/s. */
  readonly bitrate: number;
  /** One time quantum in ns (rounded). */
  readonly tq: number;
  /** Sample point in percent. */
  readonly samplePoint: number;
  /** SJA1000 bus timing register 0. */
  readonly btr0: number;
  /** SJA1000 bus timing register 1. */
  readonly btr1: number;
  readonly #text: string;

  /** Validates a timing given by its segments. */
  constructor(init: BitTimingInit) {
    const valid = checked("BitTiming", init, ["fClock", "brp", "tseg1", "tseg2", "sjw"], ["nofSamples", "strict"]);
    const v = native(() => binding.bitTimingNew(valid));
    this.fClock = v.fClock;
    this.brp = v.brp;
    this.tseg1 = v.tseg1;
    this.tseg2 = v.tseg2;
    this.sjw = v.sjw;
    this.nofSamples = v.nofSamples;
    this.nbt = v.nbt;
    this.bitrate = v.bitrate;
    this.tq = v.tq;
    this.samplePoint = v.samplePoint;
    this.btr0 = v.btr0;
    this.btr1 = v.btr1;
    this.#text = v.text;
    Object.freeze(this);
  }

  static #of(v: Native.NativeBitTimingValues): BitTiming {
    return new BitTiming({ fClock: v.fClock, brp: v.brp, tseg1: v.tseg1, tseg2: v.tseg2, sjw: v.sjw, nofSamples: v.nofSamples });
  }

  /** A timing for a bitrate and segments; the prescaler is derived and must give the bitrate within 1/256. */
  static fromBitrateAndSegments(options: BitTimingFromBitrateOptions): BitTiming {
    const valid = checked(
      "BitTiming.fromBitrateAndSegments",
      options,
      ["fClock", "bitrate", "tseg1", "tseg2", "sjw"],
      ["nofSamples", "strict"],
    );
    return BitTiming.#of(native(() => binding.bitTimingFromBitrateAndSegments(valid)));
  }

  /** A timing from SJA1000 BTR0/BTR1 register values. */
  static fromRegisters(options: BitTimingRegisters): BitTiming {
    const { fClock, btr0, btr1 } = checked("BitTiming.fromRegisters", options, ["fClock", "btr0", "btr1"]);
    return BitTiming.#of(native(() => binding.bitTimingFromRegisters(fClock, btr0, btr1)));
  }

  /**
   * Every timing within ISO 11898's minimum range that gives the bitrate
   * (within 1/256) near the sample point: one per prescaler 1..64, lowest
   * first, sjw = min(tseg2, 4). Empty when none fits.
   */
  static iterateFromSamplePoint(options: BitTimingSamplePointOptions): BitTiming[] {
    const { fClock, bitrate, samplePoint } = checked("BitTiming.iterateFromSamplePoint", options, ["fClock", "bitrate"], ["samplePoint"]);
    const all = native(() => binding.bitTimingIterateFromSamplePoint(fClock, bitrate, samplePoint ?? 69));
    return all.map((v) => BitTiming.#of(v));
  }

  /** The timing of {@link iterateFromSamplePoint} closest to the sample point (the lowest prescaler among equals). */
  static fromSamplePoint(options: BitTimingSamplePointOptions): BitTiming {
    const { fClock, bitrate, samplePoint } = checked("BitTiming.fromSamplePoint", options, ["fClock", "bitrate"], ["samplePoint"]);
    return BitTiming.#of(native(() => binding.bitTimingFromSamplePoint(fClock, bitrate, samplePoint ?? 69)));
  }

  /**
   * This bitrate and sample point on another controller clock: the same
   * segments with another prescaler if that fits ISO's range, else the
   * closest timing for the sample point (moving it at most 1 point) with sjw
   * scaled to the same share of the bit.
   */
  recreateWithFClock(fClock: number): BitTiming {
    if (typeof fClock !== "number")
      throw invalid("ERR_INVALID_ARGUMENT", `recreateWithFClock: fClock must be a number, got ${String(fClock)}`);
    return BitTiming.#of(native(() => binding.bitTimingRecreateWithFClock(this.toJSON(), fClock)));
  }

  /** The clock tolerance in percent this timing allows per ISO 11898-1 (never below 0). */
  oscillatorTolerance(options: OscillatorToleranceOptions = {}): number {
    const [delay, length] = tolerance(options);
    return native(() => binding.bitTimingOscillatorTolerance(this.toJSON(), delay, length));
  }

  /** Whether `other` is a timing with the same clock, segments and samples (python-can's `==`). */
  equals(other: BitTiming): boolean {
    const a = this.toJSON();
    const b = other.toJSON();
    return (Object.keys(a) as (keyof typeof a)[]).every((key) => a[key] === b[key]);
  }

  /** The defining fields (python-can's mapping keys, camelCase). */
  toJSON(): Required<Omit<BitTimingInit, "strict">> {
    const { fClock, brp, tseg1, tseg2, sjw, nofSamples } = this;
    return { fClock, brp, tseg1, tseg2, sjw, nofSamples };
  }

  /** python-can's `str(BitTiming)`: `BR: 500_000 bit/s, SP: 87.50%, BRP: 1, …, BTR: 401Ch, CLK: 8MHz`. */
  toString(): string {
    return this.#text;
  }
}

/**
 * A validated CAN FD bit timing (python-can's `BitTimingFd`): the nominal
 * (arbitration) and data phases, immutable, every figure read-only.
 */
export class BitTimingFd {
  /** The CAN controller clock in Hz. */
  readonly fClock: number;
  /** Nominal phase bit rate prescaler. */
  readonly nomBrp: number;
  /** Nominal phase time segment 1. */
  readonly nomTseg1: number;
  /** Nominal phase time segment 2. */
  readonly nomTseg2: number;
  /** Nominal phase synchronization jump width. */
  readonly nomSjw: number;
  /** Data phase bit rate prescaler. */
  readonly dataBrp: number;
  /** Data phase time segment 1. */
  readonly dataTseg1: number;
  /** Data phase time segment 2. */
  readonly dataTseg2: number;
  /** Data phase synchronization jump width. */
  readonly dataSjw: number;
  /** Nominal bit time in quanta. */
  readonly nbt: number;
  /** Data bit time in quanta. */
  readonly dbt: number;
  /** Nominal bitrate in bit/s. */
  readonly nomBitrate: number;
  /** Data bitrate in bit/s. */
  readonly dataBitrate: number;
  /** Nominal time quantum in ns. */
  readonly nomTq: number;
  /** Data time quantum in ns. */
  readonly dataTq: number;
  /** Nominal sample point in percent. */
  readonly nomSamplePoint: number;
  /** Data sample point in percent. */
  readonly dataSamplePoint: number;
  readonly #text: string;

  /** Validates a timing given by both phases' segments. */
  constructor(init: BitTimingFdInit) {
    const names = ["fClock", "nomBrp", "nomTseg1", "nomTseg2", "nomSjw", "dataBrp", "dataTseg1", "dataTseg2", "dataSjw"];
    const valid = checked("BitTimingFd", init, names, ["strict"]);
    const v = native(() => binding.bitTimingFdNew(valid));
    this.fClock = v.fClock;
    this.nomBrp = v.nomBrp;
    this.nomTseg1 = v.nomTseg1;
    this.nomTseg2 = v.nomTseg2;
    this.nomSjw = v.nomSjw;
    this.dataBrp = v.dataBrp;
    this.dataTseg1 = v.dataTseg1;
    this.dataTseg2 = v.dataTseg2;
    this.dataSjw = v.dataSjw;
    this.nbt = v.nbt;
    this.dbt = v.dbt;
    this.nomBitrate = v.nomBitrate;
    this.dataBitrate = v.dataBitrate;
    this.nomTq = v.nomTq;
    this.dataTq = v.dataTq;
    this.nomSamplePoint = v.nomSamplePoint;
    this.dataSamplePoint = v.dataSamplePoint;
    this.#text = v.text;
    Object.freeze(this);
  }

  static #of(v: Native.NativeBitTimingFdValues): BitTimingFd {
    return new BitTimingFd({
      fClock: v.fClock,
      nomBrp: v.nomBrp,
      nomTseg1: v.nomTseg1,
      nomTseg2: v.nomTseg2,
      nomSjw: v.nomSjw,
      dataBrp: v.dataBrp,
      dataTseg1: v.dataTseg1,
      dataTseg2: v.dataTseg2,
      dataSjw: v.dataSjw,
    });
  }

  /** A timing for two bitrates and their segments; each derived prescaler must give its bitrate within 1/256. */
  static fromBitrateAndSegments(options: BitTimingFdFromBitrateOptions): BitTimingFd {
    const names = ["fClock", "nomBitrate", "nomTseg1", "nomTseg2", "nomSjw", "dataBitrate", "dataTseg1", "dataTseg2", "dataSjw"];
    const valid = checked("BitTimingFd.fromBitrateAndSegments", options, names, ["strict"]);
    return BitTimingFd.#of(native(() => binding.bitTimingFdFromBitrateAndSegments(valid)));
  }

  /**
   * Every timing within ISO 11898's FD minimum range that gives both bitrates
   * (within 1/256) near both sample points, over prescalers 1..256
   * (nominal outer, both ascending). Empty when none fits.
   */
  static iterateFromSamplePoint(options: BitTimingFdSamplePointOptions): BitTimingFd[] {
    const names = ["fClock", "nomBitrate", "nomSamplePoint", "dataBitrate", "dataSamplePoint"];
    const valid = checked("BitTimingFd.iterateFromSamplePoint", options, names);
    return native(() => binding.bitTimingFdIterateFromSamplePoint(valid)).map((v) => BitTimingFd.#of(v));
  }

  /**
   * The timing python-can picks from {@link iterateFromSamplePoint}: a shared
   * prescaler if any solution has one, then the smallest summed sample point
   * deviation, then the closest prescalers, then the lowest.
   */
  static fromSamplePoint(options: BitTimingFdSamplePointOptions): BitTimingFd {
    const names = ["fClock", "nomBitrate", "nomSamplePoint", "dataBitrate", "dataSamplePoint"];
    const valid = checked("BitTimingFd.fromSamplePoint", options, names);
    return BitTimingFd.#of(native(() => binding.bitTimingFdFromSamplePoint(valid)));
  }

  /** Both bitrates and sample points on another controller clock, as {@link BitTiming.recreateWithFClock}. */
  recreateWithFClock(fClock: number): BitTimingFd {
    if (typeof fClock !== "number")
      throw invalid("ERR_INVALID_ARGUMENT", `recreateWithFClock: fClock must be a number, got ${String(fClock)}`);
    return BitTimingFd.#of(native(() => binding.bitTimingFdRecreateWithFClock(this.toJSON(), fClock)));
  }

  /** The clock tolerance in percent per ISO 11898-1 over both phases (never below 0). */
  oscillatorTolerance(options: OscillatorToleranceOptions = {}): number {
    const [delay, length] = tolerance(options);
    return native(() => binding.bitTimingFdOscillatorTolerance(this.toJSON(), delay, length));
  }

  /** Whether `other` has the same clock and segments (python-can's `==`). */
  equals(other: BitTimingFd): boolean {
    const a = this.toJSON();
    const b = other.toJSON();
    return (Object.keys(a) as (keyof typeof a)[]).every((key) => a[key] === b[key]);
  }

  /** The defining fields (python-can's mapping keys, camelCase). */
  toJSON(): Required<Omit<BitTimingFdInit, "strict">> {
    const { fClock, nomBrp, nomTseg1, nomTseg2, nomSjw, dataBrp, dataTseg1, dataTseg2, dataSjw } = this;
    return { fClock, nomBrp, nomTseg1, nomTseg2, nomSjw, dataBrp, dataTseg1, dataTseg2, dataSjw };
  }

  /** python-can's `str(BitTimingFd)`: `NBR: 500_000 bit/s, NSP: 80.00%, NBRP: 2, …, CLK: 80MHz`. */
  toString(): string {
    return this.#text;
  }
}
