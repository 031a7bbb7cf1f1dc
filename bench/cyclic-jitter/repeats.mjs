// Repeats of bench/cyclic-jitter. Every row (scheduler x period x tasks x
// load) is measured several times, the schedulers of a row taking turns
// within each repeat, so that a burst of load on the shared machine falls on
// one repeat of each rather than on every run of one scheduler. A row's
// summary is the median of each figure over its repeats, with the spread
// (min and max) of the ones that decide the targets.

import { median } from "./analysis.mjs";

/** The figures summarised per row. */
const FIGURES = ["p50Us", "p99Us", "maxUs", "driftPpm", "driftLsqPpm", "frames", "missed", "expected"];
/** The figures whose spread is kept. */
const SPREAD = ["p99Us", "driftPpm", "missed"];

/** The row a run belongs to, across repeats. */
export function rowKey(r) {
  return `${r.scheduler}|${r.periodMs}|${r.tasks}|${r.load}`;
}

/** Numbers among `values` (null, undefined and NaN left out). */
export function numbers(values) {
  return values.filter((v) => typeof v === "number" && !Number.isNaN(v));
}

/** `{ median, min, max }` of the numbers among `values`, or null when there are none. */
export function spread(values) {
  const xs = numbers(values);
  if (xs.length === 0) return null;
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * One summary per row, in the order rows were first measured: the row's
 * fields, `repeats` (runs measured), the median of each figure under its
 * own name and `spread[figure] = { median, min, max }` for p99, drift and missed.
 * Skipped runs are left out; a row skipped in every repeat keeps `skipped`.
 * @param {object[]} runs every run's row (with `repeat`)
 */
export function summarizeRows(runs) {
  const groups = new Map();
  for (const run of runs) {
    const key = rowKey(run);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(run);
  }
  return [...groups.values()].map((group) => {
    const { scheduler, periodMs, tasks, load } = group[0];
    const measured = group.filter((r) => !r.skipped);
    if (measured.length === 0) return { scheduler, periodMs, tasks, load, skipped: group[0].skipped };
    const summary = { scheduler, periodMs, tasks, load, repeats: measured.length, spread: {} };
    for (const figure of FIGURES) summary[figure] = spread(measured.map((r) => r[figure]))?.median ?? null;
    for (const figure of SPREAD) summary.spread[figure] = spread(measured.map((r) => r[figure]));
    return summary;
  });
}

/**
 * For each repeat in which both runs exist, `value(a, b)` of the run of row
 * `a` and the run of row `b`; returns their `{ median, min, max }` and count.
 * @param {object[]} runs every run
 * @param {(r: object) => boolean} isA
 * @param {(r: object) => boolean} isB
 * @param {(a: object, b: object) => number|null} value
 */
export function pairedByRepeat(runs, isA, isB, value) {
  const values = [];
  for (const a of runs.filter((r) => !r.skipped && isA(r))) {
    const b = runs.find((r) => !r.skipped && r.repeat === a.repeat && isB(r));
    if (b) values.push(value(a, b));
  }
  const s = spread(values);
  return s && { ...s, count: numbers(values).length };
}
