// The arithmetic behind bench/cyclic-jitter's figures and verdicts, on made-up instants and runs.
import { describe, expect, it } from "vitest";
import { analyzeRow, assignSlots, byTask, FULL_RING, fitTask } from "../bench/cyclic-jitter/analysis.mjs";
import { summarizeRows } from "../bench/cyclic-jitter/repeats.mjs";
import { targetChecks } from "../bench/cyclic-jitter/report.mjs";

const P = 1_000_000;

describe("cyclic-jitter analysis", () => {
  it("numbers slots from round-robin markers, counting skipped slots", () => {
    const { slots, missed } = assignSlots([0, P, 2 * P, 5 * P, 6 * P], [10, 11, 12, 15, 16], P, 64);
    expect(Array.from(slots)).toEqual([0, 1, 2, 5, 6]);
    expect(missed).toBe(2);
  });

  it("unwraps the ring, and adds whole rings when the time gap says so", () => {
    const t = [0, P, 2 * P, 3 * P, 69 * P + 30_000];
    const { slots, missed } = assignSlots(t, [62, 63, 0, 1, 3], P, 64);
    expect(Array.from(slots)).toEqual([0, 1, 2, 3, 69]);
    expect(missed).toBe(65);
  });

  it("without time unwrapping a late frame keeps the next round-robin slot (BCM never skips)", () => {
    const t = [0, P, 2 * P, 80 * P];
    expect(Array.from(assignSlots(t, [0, 1, 2, 3], P, 64, false).slots)).toEqual([0, 1, 2, 3]);
    expect(Array.from(assignSlots(t, [0, 1, 2, 3], P, 64).slots)).toEqual([0, 1, 2, 67]);
  });

  it("a slot-number marker keeps late frames on their own slot (setInterval)", () => {
    const t = [0, 3 * P, 4 * P, 9 * P];
    const { slots, missed } = assignSlots(t, [0, 1, 2, 3], P, FULL_RING);
    expect(Array.from(slots)).toEqual([0, 1, 2, 3]);
    expect(missed).toBe(0);
  });

  it("fits the start as the median offset and the drift as the slope between the outer thirds (and by least squares)", () => {
    const slots = Float64Array.from({ length: 101 }, (_, k) => k);
    const constant = fitTask(
      Array.from(slots, (k) => k * P + 700),
      slots,
      P,
    );
    expect(constant.startNs).toBe(700);
    expect(Array.from(constant.errorsNs).every((e) => e === 0)).toBe(true);
    expect(constant.driftPpm).toBeCloseTo(0, 6);
    expect(constant.driftLsqPpm).toBeCloseTo(0, 6);
    // 100 ppm slow: each period is 1_000_100 ns.
    const slow = fitTask(
      Array.from(slots, (k) => k * (P + 100)),
      slots,
      P,
    );
    expect(slow.driftPpm).toBeCloseTo(100, 6);
    expect(slow.driftLsqPpm).toBeCloseTo(100, 6);
    expect(slow.startNs).toBe(5_000);
    expect(slow.errorsNs[0]).toBe(-5_000);
    expect(slow.errorsNs[100]).toBe(5_000);
  });

  it("a stall near the end of a run tilts the least-squares drift, not the robust one", () => {
    const slots = Float64Array.from({ length: 200 }, (_, k) => k);
    const t = Array.from(slots, (k) => k * P + (k === 198 ? 1_500_000 : 0));
    const fit = fitTask(t, slots, P);
    expect(fit.driftPpm).toBe(0);
    // The lone outlier: 1.5 ms at 98.5 periods from the mean slot, over sum((k - 99.5)^2) periods^2.
    expect(fit.driftLsqPpm).toBeCloseTo(((1_500_000 * 98.5) / ((200 * (200 * 200 - 1)) / 12) / P) * 1e6, 3);
    expect(Math.abs(fit.driftLsqPpm ?? 0)).toBeGreaterThan(50);
  });

  it("pools |error| over tasks for p50, p99 and max, and shows the worst drift", () => {
    // Task 0x100: on time but frame 50 is 40 µs late; task 0x101: 25 ppm fast.
    const n = 100;
    const ids = new Uint32Array(2 * n);
    const t = new Float64Array(2 * n);
    const marker = new Uint32Array(2 * n);
    for (let k = 0; k < n; k++) {
      ids[2 * k] = 0x100;
      t[2 * k] = k * P + (k === 50 ? 40_000 : 0);
      marker[2 * k] = k % 64;
      ids[2 * k + 1] = 0x101;
      t[2 * k + 1] = 300_000 + k * (P - 25);
      marker[2 * k + 1] = k % 64;
    }
    const tasks = byTask({ ids, t, marker, count: 2 * n });
    expect([...tasks.keys()]).toEqual([0x100, 0x101]);
    const row = analyzeRow(tasks, P, 64);
    expect(row.frames).toBe(200);
    expect(row.missed).toBe(0);
    expect(row.tasksSeen).toBe(2);
    expect(row.driftPpm).toBeCloseTo(-25, 6);
    expect(row.maxUs).toBe(40);
    // Task 0x101's errors run from -1.2375 µs to +1.2375 µs around its median; task 0x100's are 0.
    expect(row.p99Us).toBeCloseTo(1.2375, 6);
    expect(row.p50Us).toBeCloseTo(0.0125, 6);
  });
});

/** A run of the bench as run.mjs records it. */
function run(repeat: number, scheduler: string, load: string, p99Us: number, missed = 0, driftPpm = 1) {
  return {
    repeat,
    scheduler,
    periodMs: 1,
    tasks: 50,
    load,
    p99Us,
    p50Us: 1,
    maxUs: p99Us * 10,
    driftPpm,
    driftLsqPpm: driftPpm,
    frames: 1000,
    missed,
    expected: 1000,
  };
}

describe("cyclic-jitter verdicts over interleaved repeats", () => {
  const runs = [
    // repeat 0: a burst of load hits both schedulers
    run(0, "canwire native", "idle", 40, 3),
    run(0, "native reference", "idle", 20, 5),
    run(0, "canwire native", "blocked", 50, 0, -70),
    run(0, "native reference", "blocked", 25),
    run(0, "setInterval", "blocked", 3_000),
    // repeats 1 and 2: quiet
    run(1, "canwire native", "idle", 4, 0),
    run(1, "native reference", "idle", 5, 0),
    run(1, "canwire native", "blocked", 6, 1, 2),
    run(1, "native reference", "blocked", 5),
    run(1, "setInterval", "blocked", 2_000),
    run(2, "canwire native", "idle", 5, 1),
    run(2, "native reference", "idle", 4, 0),
    run(2, "canwire native", "blocked", 5, 0, 3),
    run(2, "native reference", "blocked", 4),
    run(2, "setInterval", "blocked", 2_500),
  ];

  it("summarises each row as the median of its repeats, with the spread", () => {
    const rows = summarizeRows(runs);
    expect(rows.map((r) => `${r.scheduler} ${r.load}`)).toEqual([
      "canwire native idle",
      "native reference idle",
      "canwire native blocked",
      "native reference blocked",
      "setInterval blocked",
    ]);
    const native = rows[0]!;
    expect([native.repeats, native.p99Us, native.missed]).toEqual([3, 5, 1]);
    expect(native.spread.p99Us).toEqual({ median: 5, min: 4, max: 40 });
    expect(native.spread.missed).toEqual({ median: 1, min: 0, max: 3 });
  });

  it("decides each check in the median of per-repeat ratios against the same repeat's runs", () => {
    const { checks } = targetChecks(runs, summarizeRows(runs));
    const find = (check: string, load: string) => checks.find((c) => c.check === check && c.load === load)!;
    // Idle p99 ratios per repeat: 40/20, 4/5, 5/4.
    expect(find("p99 / reference p99", "idle")).toMatchObject({ median: 1.25, min: 0.8, max: 2, pass: true });
    // Blocked / idle per repeat: 50/40, 6/4, 5/5.
    expect(find("p99 blocked / p99 idle", "blocked")).toMatchObject({ median: 1.25, min: 1, max: 1.5, pass: false });
    // Beside it, the reference loop's own blocked / idle per repeat: 25/20, 5/5, 4/4.
    expect(find("p99 blocked / p99 idle", "blocked").reference).toEqual({ median: 1, min: 1, max: 1.25, count: 3 });
    // setInterval / canwire per repeat: 60, 333.3, 500.
    expect(find("setInterval p99 / p99 (blocked)", "blocked")).toMatchObject({ median: 2_000 / 6, min: 60, pass: true });
    // |drift| per repeat: 70, 2, 3.
    expect(find("|drift| ppm", "blocked")).toMatchObject({ median: 3, max: 70, pass: true });
    // Missed: native 3, 0, 1 (median 1) against the reference's 5, 0, 0 (median 0).
    expect(find("missed slots", "idle")).toMatchObject({
      median: 1,
      reference: { median: 0, min: 0, max: 5 },
      target: "<= reference's 0",
      pass: false,
    });
    expect(find("missed slots", "blocked")).toMatchObject({ median: 0, pass: true });
  });
});
