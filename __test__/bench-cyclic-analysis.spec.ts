// The arithmetic behind bench/cyclic-jitter's figures, on made-up instants.
import { describe, expect, it } from "vitest";
import { analyzeRow, assignSlots, byTask, FULL_RING, fitTask } from "../bench/cyclic-jitter/analysis.mjs";

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

  it("fits the start as the median offset and the drift as the least-squares slope", () => {
    const slots = Float64Array.from({ length: 101 }, (_, k) => k);
    const constant = fitTask(
      Array.from(slots, (k) => k * P + 700),
      slots,
      P,
    );
    expect(constant.startNs).toBe(700);
    expect(Array.from(constant.errorsNs).every((e) => e === 0)).toBe(true);
    expect(constant.driftPpm).toBeCloseTo(0, 6);
    // 100 ppm slow: each period is 1_000_100 ns.
    const slow = fitTask(
      Array.from(slots, (k) => k * (P + 100)),
      slots,
      P,
    );
    expect(slow.driftPpm).toBeCloseTo(100, 6);
    expect(slow.startNs).toBe(5_000);
    expect(slow.errorsNs[0]).toBe(-5_000);
    expect(slow.errorsNs[100]).toBe(5_000);
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
