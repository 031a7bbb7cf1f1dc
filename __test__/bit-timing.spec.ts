import { describe, expect, it } from "vitest";
import { BitTiming, BitTimingFd, type CanError } from "../src/index.js";
import { skipWithoutPythonPeers } from "./peers/index.js";
import { runPythonCan } from "./python-can.js";

const MHZ = 1_000_000;
const CLOCKS = [8, 16, 20, 24, 40, 80].map((m) => m * MHZ);
const BITRATES = [125_000, 250_000, 500_000, 1_000_000];
const DATA_BITRATES = [2_000_000, 5_000_000, 8_000_000];
const SAMPLE_POINTS = [75, 80, 87.5];

/** One construction, named as python-can names it, with python-can's keyword arguments. */
interface Case {
  kind: string;
  args: Record<string, unknown>;
}

/** What a construction gave: every property of the timing, or the refusal. */
type Outcome =
  | { refused: true }
  | { refused: false; timing: Record<string, number | string> }
  | { list: Record<string, number | string>[] };

const CLASSIC_PROPS = ["f_clock", "brp", "tseg1", "tseg2", "sjw", "nof_samples", "nbt", "bitrate", "tq", "sample_point", "btr0", "btr1"];
const FD_PROPS = [
  "f_clock",
  "nom_brp",
  "nom_tseg1",
  "nom_tseg2",
  "nom_sjw",
  "data_brp",
  "data_tseg1",
  "data_tseg2",
  "data_sjw",
  "nbt",
  "dbt",
  "nom_bitrate",
  "data_bitrate",
  "nom_tq",
  "data_tq",
  "nom_sample_point",
  "data_sample_point",
];

/** Runs every case in python-can 4.6; a refusal must be a ValueError. */
function pythonOutcomes(cases: Case[]): Outcome[] {
  const code = `
import can
CLASSIC = ${JSON.stringify(CLASSIC_PROPS)}
FD = ${JSON.stringify(FD_PROPS)}
def describe(t):
    props = CLASSIC if isinstance(t, can.BitTiming) else FD
    d = {p: getattr(t, p) for p in props}
    d["str"] = str(t)
    d["tolerance"] = t.oscillator_tolerance()
    d["tolerance_long_bus"] = t.oscillator_tolerance(node_loop_delay_ns=180.0, bus_length_m=40.0)
    return d
def run(case):
    kind, args = case["kind"], case["args"]
    cls_name, _, method = kind.partition(".")
    cls = getattr(can, cls_name)
    try:
        if method == "recreate_with_f_clock":
            made = cls(**args["timing"]).recreate_with_f_clock(args["f_clock"])
        else:
            made = getattr(cls, method)(**args) if method else cls(**args)
        if method.startswith("iterate"):
            return {"list": [describe(t) for t in made]}
        return {"refused": False, "timing": describe(made)}
    except ValueError:
        return {"refused": True}
result = [run(c) for c in data]
`;
  return runPythonCan(code, cases) as Outcome[];
}

const camel = (name: string): string => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const camelArgs = (args: Case["args"]) => Object.fromEntries(Object.entries(args).map(([k, v]) => [camel(k), v]));

function describeTiming(t: BitTiming | BitTimingFd): Record<string, number | string> {
  const props = t instanceof BitTiming ? CLASSIC_PROPS : FD_PROPS;
  const d: Record<string, number | string> = {};
  for (const p of props) d[p] = (t as unknown as Record<string, number>)[camel(p)] as number;
  d.str = String(t);
  d.tolerance = t.oscillatorTolerance();
  d.tolerance_long_bus = t.oscillatorTolerance({ nodeLoopDelayNs: 180, busLengthM: 40 });
  return d;
}

/** `args.timing` (python-can's keywords) built in canwire and moved to `args.f_clock`. */
function recreated<T extends BitTiming | BitTimingFd>(cls: new (init: never) => T, args: Case["args"]): T {
  const timing = new cls(camelArgs(args.timing as Case["args"]) as never);
  return timing.recreateWithFClock(args.f_clock as number) as T;
}

/** Runs every case in canwire; a refusal must be an ERR_INVALID_ARGUMENT. */
function canwireOutcomes(cases: Case[]): Outcome[] {
  return cases.map(({ kind, args }) => {
    const options = camelArgs(args) as never;
    try {
      switch (kind) {
        case "BitTiming":
          return { refused: false, timing: describeTiming(new BitTiming(options)) };
        case "BitTiming.from_bitrate_and_segments":
          return { refused: false, timing: describeTiming(BitTiming.fromBitrateAndSegments(options)) };
        case "BitTiming.from_registers":
          return { refused: false, timing: describeTiming(BitTiming.fromRegisters(options)) };
        case "BitTiming.from_sample_point":
          return { refused: false, timing: describeTiming(BitTiming.fromSamplePoint(options)) };
        case "BitTiming.iterate_from_sample_point":
          return { list: BitTiming.iterateFromSamplePoint(options).map(describeTiming) };
        case "BitTimingFd":
          return { refused: false, timing: describeTiming(new BitTimingFd(options)) };
        case "BitTimingFd.from_bitrate_and_segments":
          return { refused: false, timing: describeTiming(BitTimingFd.fromBitrateAndSegments(options)) };
        case "BitTimingFd.from_sample_point":
          return { refused: false, timing: describeTiming(BitTimingFd.fromSamplePoint(options)) };
        case "BitTiming.recreate_with_f_clock":
          return { refused: false, timing: describeTiming(recreated(BitTiming, args)) };
        case "BitTimingFd.recreate_with_f_clock":
          return { refused: false, timing: describeTiming(recreated(BitTimingFd, args)) };
        case "BitTimingFd.iterate_from_sample_point":
          return { list: BitTimingFd.iterateFromSamplePoint(options).map(describeTiming) };
        default:
          throw new Error(`unknown case ${kind}`);
      }
    } catch (error) {
      expect((error as CanError).code, `${kind} ${JSON.stringify(args)}: ${String(error)}`).toBe("ERR_INVALID_ARGUMENT");
      return { refused: true };
    }
  });
}

/** Compares case by case, so a failure names the construction. */
function expectSameOutcomes(cases: Case[]): Outcome[] {
  const python = pythonOutcomes(cases);
  const canwire = canwireOutcomes(cases);
  expect(canwire.length).toBe(cases.length);
  cases.forEach((c, i) => {
    expect(canwire[i], `${c.kind} ${JSON.stringify(c.args)}`).toEqual(python[i]);
  });
  return python;
}

/** Every combination of one value per axis, first axis outermost. */
function grid<A extends unknown[][]>(...axes: A): { [K in keyof A]: A[K][number] }[] {
  const rows = axes.reduce<unknown[][]>((acc, axis) => acc.flatMap((row) => axis.map((v) => [...row, v])), [[]]);
  return rows as { [K in keyof A]: A[K][number] }[];
}

function counts(outcomes: Outcome[]): { made: number; refused: number } {
  const made = outcomes.filter((o) => "refused" in o && !o.refused).length;
  return { made, refused: outcomes.length - made };
}

describe.skipIf(skipWithoutPythonPeers())("bit timing, against python-can 4.6 over the grid", () => {
  it("BitTiming.fromSamplePoint and iterateFromSamplePoint pick python-can's timings", () => {
    const cases: Case[] = [];
    for (const [f_clock, bitrate, sample_point] of grid(CLOCKS, BITRATES, SAMPLE_POINTS)) {
      cases.push({ kind: "BitTiming.from_sample_point", args: { f_clock, bitrate, sample_point } });
      cases.push({ kind: "BitTiming.iterate_from_sample_point", args: { f_clock, bitrate, sample_point } });
    }
    cases.push({ kind: "BitTiming.from_sample_point", args: { f_clock: 8 * MHZ, bitrate: 500_000, sample_point: 49.9 } });
    const python = expectSameOutcomes(cases);
    const picked = python.filter((o) => "refused" in o);
    // the grid has both outcomes: at 80 MHz no prescaler up to 32 gives 125 kbit/s
    // at 87.5 % within ISO's 8..25 quanta; the last case is below 50 %
    expect(counts(picked)).toEqual({ made: 71, refused: 2 });
    expect(python[0]).toMatchObject({
      timing: { str: "BR: 125_000 bit/s, SP: 75.00%, BRP: 4, TSEG1: 11, TSEG2: 4, SJW: 4, BTR: C33Ah, CLK: 8MHz" },
    });
  });

  it("BitTiming.fromBitrateAndSegments derives the prescaler and refuses what python-can refuses", () => {
    const segments: [number, number, number][] = [
      [5, 2, 1],
      [13, 2, 2],
      [12, 3, 1],
      [15, 4, 4],
      [6, 1, 1],
      [10, 5, 3],
      [16, 8, 4],
      [2, 5, 1],
      [4, 1, 2],
      [17, 2, 1],
    ];
    const cases: Case[] = grid(CLOCKS, BITRATES, segments, [1, 3], [false, true]).map(
      ([f_clock, bitrate, [tseg1, tseg2, sjw], nof_samples, strict]) => ({
        kind: "BitTiming.from_bitrate_and_segments",
        args: { f_clock, bitrate, tseg1, tseg2, sjw, nof_samples, strict },
      }),
    );
    const python = expectSameOutcomes(cases);
    const { made, refused } = counts(python);
    expect(made).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it("new BitTiming validates every range as python-can does, strict or not", () => {
    const cases: Case[] = grid([0, 1, 32, 33, 64, 65], [0, 1, 3, 16, 17], [0, 1, 2, 8, 9], [0, 1, 2, 4, 5], [1, 2, 3], [false, true]).map(
      ([brp, tseg1, tseg2, sjw, nof_samples, strict]) => ({
        kind: "BitTiming",
        args: { f_clock: 40 * MHZ, brp, tseg1, tseg2, sjw, nof_samples, strict },
      }),
    );
    const python = expectSameOutcomes(cases);
    expect(counts(python).made).toBeGreaterThan(50);
  });

  it("BitTiming.fromRegisters decodes SJA1000 BTR0/BTR1 as python-can does", () => {
    const registers = grid(
      [0x00, 0x01, 0x03, 0x43, 0x81, 0xc3, 0xff, 0x100, 0x10000, -1],
      [0x14, 0x1c, 0x2f, 0xab, 0x3a, 0x7f, 0xff, 0x1ff, 0x10000],
    );
    const cases: Case[] = grid([8 * MHZ, 16 * MHZ, 24 * MHZ], registers).map(([f_clock, [btr0, btr1]]) => ({
      kind: "BitTiming.from_registers",
      args: { f_clock, btr0, btr1 },
    }));
    const python = expectSameOutcomes(cases);
    expect(python[1]).toMatchObject({ timing: { brp: 1, tseg1: 13, tseg2: 2, sjw: 1, btr0: 0, btr1: 0x1c } });
    expect(counts(python).refused).toBeGreaterThan(20);
  });

  it("BitTimingFd.fromSamplePoint and iterateFromSamplePoint pick python-can's timings", () => {
    const cases: Case[] = [];
    for (const [f_clock, nom_bitrate, data_bitrate, nom_sample_point, data_sample_point] of grid(
      CLOCKS,
      BITRATES,
      DATA_BITRATES,
      SAMPLE_POINTS,
      SAMPLE_POINTS,
    )) {
      const args = { f_clock, nom_bitrate, nom_sample_point, data_bitrate, data_sample_point };
      cases.push({ kind: "BitTimingFd.from_sample_point", args });
    }
    for (const [f_clock, nom_bitrate, data_bitrate] of grid(CLOCKS, BITRATES, DATA_BITRATES)) {
      const args = { f_clock, nom_bitrate, nom_sample_point: 80, data_bitrate, data_sample_point: 75 };
      cases.push({ kind: "BitTimingFd.iterate_from_sample_point", args });
    }
    const python = expectSameOutcomes(cases);
    const picked = python.filter((o) => "refused" in o);
    const { made, refused } = counts(picked);
    expect(made).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(0);
    const lists = python.filter((o): o is { list: Record<string, number | string>[] } => "list" in o);
    expect(lists.some((o) => o.list.length > 3)).toBe(true);
  });

  it("BitTimingFd.fromBitrateAndSegments and new BitTimingFd refuse what python-can refuses", () => {
    const nominal: [number, number, number][] = [
      [59, 20, 10],
      [63, 16, 16],
      [13, 2, 2],
      [29, 10, 4],
      [127, 32, 32],
      [10, 30, 5],
      [5, 1, 1],
    ];
    const data: [number, number, number][] = [
      [6, 3, 2],
      [14, 5, 5],
      [2, 1, 1],
      [7, 2, 3],
      [30, 9, 4],
      [1, 3, 1],
    ];
    const cases: Case[] = grid(CLOCKS, BITRATES, DATA_BITRATES, nominal, data, [false, true]).map(
      ([f_clock, nom_bitrate, data_bitrate, [nom_tseg1, nom_tseg2, nom_sjw], [data_tseg1, data_tseg2, data_sjw], strict]) => ({
        kind: "BitTimingFd.from_bitrate_and_segments",
        args: { f_clock, nom_bitrate, nom_tseg1, nom_tseg2, nom_sjw, data_bitrate, data_tseg1, data_tseg2, data_sjw, strict },
      }),
    );
    for (const [nom_brp, data_brp, nom_tseg1, data_sjw, strict] of grid(
      [-1, 0, 1, 2, 4],
      [0, 1, 2, 10],
      [-1, 0, 1, 59, 70, 140],
      [-1, 0, 2, 9],
      [false, true],
    )) {
      cases.push({
        kind: "BitTimingFd",
        args: {
          f_clock: 80 * MHZ,
          nom_brp,
          nom_tseg1,
          nom_tseg2: 20,
          nom_sjw: 10,
          data_brp,
          data_tseg1: 6,
          data_tseg2: 3,
          data_sjw,
          strict,
        },
      });
    }
    const python = expectSameOutcomes(cases);
    const { made, refused } = counts(python);
    expect(made).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});

describe.skipIf(skipWithoutPythonPeers())("recreating a timing on another clock, against python-can 4.6", () => {
  it("BitTiming.recreateWithFClock keeps the segments or searches the sample point as python-can", () => {
    const cases: Case[] = [];
    for (const [from, bitrate, sample_point, to] of grid(CLOCKS, BITRATES, SAMPLE_POINTS, CLOCKS)) {
      if (from === to) continue;
      const timing = BitTiming.iterateFromSamplePoint({ fClock: from, bitrate, samplePoint: sample_point })[0];
      if (!timing) continue;
      const { fClock, nofSamples, ...segments } = timing.toJSON();
      // three samples and the widest sjw, so scaling sjw and keeping the samples both show
      const sjw = Math.min(segments.tseg2, 4);
      cases.push({
        kind: "BitTiming.recreate_with_f_clock",
        args: { timing: { f_clock: fClock, ...segments, sjw, nof_samples: 3 }, f_clock: to },
      });
    }
    const python = expectSameOutcomes(cases);
    const { made, refused } = counts(python);
    expect(made).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(10);
    // some moves search the sample point anew (other segments), not only another prescaler
    const resegmented = cases.filter((c, i) => {
      const o = python[i];
      return o !== undefined && "timing" in o && o.timing.tseg1 !== (c.args.timing as { tseg1: number }).tseg1;
    });
    expect(resegmented.length).toBeGreaterThan(5);
  });

  it("BitTimingFd.recreateWithFClock does the same for both phases", () => {
    const cases: Case[] = [];
    for (const [from, nomBitrate, dataBitrate, to] of grid(CLOCKS, BITRATES, DATA_BITRATES, CLOCKS)) {
      if (from === to) continue;
      const all = BitTimingFd.iterateFromSamplePoint({ fClock: from, nomBitrate, nomSamplePoint: 80, dataBitrate, dataSamplePoint: 75 });
      const timing = all[0];
      if (!timing) continue;
      const t = timing.toJSON();
      const keywords = {
        f_clock: t.fClock,
        nom_brp: t.nomBrp,
        nom_tseg1: t.nomTseg1,
        nom_tseg2: t.nomTseg2,
        nom_sjw: Math.max(1, t.nomSjw - 1),
        data_brp: t.dataBrp,
        data_tseg1: t.dataTseg1,
        data_tseg2: t.dataTseg2,
        data_sjw: t.dataSjw,
      };
      cases.push({ kind: "BitTimingFd.recreate_with_f_clock", args: { timing: keywords, f_clock: to } });
    }
    const python = expectSameOutcomes(cases);
    const { made, refused } = counts(python);
    expect(made).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(10);
  });
});

describe("bit timing in canwire", () => {
  it("is immutable and prints python-can's text", () => {
    const bt = BitTiming.fromSamplePoint({ fClock: 8 * MHZ, bitrate: 500_000, samplePoint: 87.5 });
    expect(String(bt)).toBe("BR: 500_000 bit/s, SP: 87.50%, BRP: 1, TSEG1: 13, TSEG2: 2, SJW: 2, BTR: 401Ch, CLK: 8MHz");
    expect(() => {
      (bt as { brp: number }).brp = 2;
    }).toThrow(TypeError);
    expect(bt.toJSON()).toEqual({ fClock: 8 * MHZ, brp: 1, tseg1: 13, tseg2: 2, sjw: 2, nofSamples: 1 });
    expect(bt.equals(BitTiming.fromRegisters({ fClock: 8 * MHZ, btr0: 0x40, btr1: 0x1c }))).toBe(true);
    expect(bt.equals(BitTiming.fromRegisters({ fClock: 8 * MHZ, btr0: 0x40, btr1: 0x9c }))).toBe(false);
  });

  it("defaults the sample point to 69 % as python-can", () => {
    const bt = BitTiming.fromSamplePoint({ fClock: 16 * MHZ, bitrate: 500_000 });
    expect([bt.brp, bt.tseg1, bt.tseg2, bt.sjw]).toEqual([2, 10, 5, 4]);
  });

  it("refuses bad options with ERR_INVALID_ARGUMENT and says what is allowed", () => {
    const refusal = (make: () => unknown): CanError => {
      try {
        make();
      } catch (error) {
        return error as CanError;
      }
      throw new Error("expected a refusal");
    };
    const fraction = refusal(() => new BitTiming({ fClock: 8 * MHZ, brp: 1.5, tseg1: 5, tseg2: 2, sjw: 1 }));
    expect([fraction.code, fraction.message]).toEqual(["ERR_INVALID_ARGUMENT", "brp must be an integer, got 1.5"]);
    const missing = refusal(() => BitTiming.fromSamplePoint({ fClock: 8 * MHZ } as never));
    expect([missing.code, missing.message]).toEqual([
      "ERR_INVALID_ARGUMENT",
      "BitTiming.fromSamplePoint: bitrate must be a number, got undefined",
    ]);
    const misspelt = refusal(() => BitTiming.fromSamplePoint({ fClock: 8 * MHZ, bitrate: 500_000, samplepoint: 87.5 } as never));
    expect([misspelt.code, misspelt.message]).toEqual([
      "ERR_INVALID_ARGUMENT",
      "BitTiming.fromSamplePoint: unknown option samplepoint (known: fClock, bitrate, samplePoint)",
    ]);
    const strictType = refusal(() => new BitTiming({ fClock: 8 * MHZ, brp: 1, tseg1: 5, tseg2: 2, sjw: 1, strict: 1 as never }));
    expect([strictType.code, strictType.message]).toEqual(["ERR_INVALID_ARGUMENT", "BitTiming: strict must be a boolean, got 1"]);
    const range = refusal(() => new BitTiming({ fClock: 8 * MHZ, brp: 65, tseg1: 5, tseg2: 2, sjw: 1 }));
    expect([range.code, range.message]).toEqual(["ERR_INVALID_ARGUMENT", "brp (bit rate prescaler) (=65) must be in [1...64]"]);
    const clock = refusal(
      () =>
        new BitTimingFd({
          fClock: 0,
          nomBrp: 1,
          nomTseg1: 59,
          nomTseg2: 20,
          nomSjw: 10,
          dataBrp: 1,
          dataTseg1: 6,
          dataTseg2: 3,
          dataSjw: 2,
        }),
    );
    expect([clock.code, clock.message]).toEqual(["ERR_INVALID_ARGUMENT", "f_clock (=0) must be a positive clock frequency in Hz"]);
  });
});
