// Printing of bench/cyclic-jitter: the table of rows (medians over the
// repeats, with their spread) and the target checks, each decided in the
// median of the repeats.

import { pairedByRepeat, spread } from "./repeats.mjs";

/** Targets of issue 16 item 3 (first set in issue 4). */
export const TARGETS = {
  driftPpm: 50,
  p99VsReference: 1.5,
  p99BlockedVsIdle: 1.2,
  setIntervalVsCanwireBlocked: 10,
};

const CANWIRE = ["canwire native", "canwire kernel"];
const REFERENCE = "native reference";

function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "-";
  return value.toFixed(digits);
}

/** "min-max" of a spread, or "-". */
function range(s, digits = 1) {
  return s ? `${fmt(s.min, digits)}-${fmt(s.max, digits)}` : "-";
}

function table(header, rows, leftColumns) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < leftColumns ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The table of row summaries (see repeats.mjs). */
export function rowsTable(summaries) {
  const header = [
    "scheduler",
    "period ms",
    "tasks",
    "load",
    "n",
    "drift ppm",
    "p50 us",
    "p99 us",
    "p99 min-max",
    "max us",
    "frames",
    "missed",
    "missed min-max",
  ];
  const body = summaries
    .filter((r) => !r.skipped)
    .map((r) => [
      r.scheduler,
      r.periodMs,
      r.tasks,
      r.load,
      r.repeats,
      fmt(r.driftPpm, 2),
      fmt(r.p50Us, 2),
      fmt(r.p99Us, 1),
      range(r.spread.p99Us),
      fmt(r.maxUs, 0),
      Math.round(r.frames),
      fmt(r.missed, 0),
      range(r.spread.missed, 0),
    ]);
  return table(header, body, 4);
}

const sameRow = (a, periodMs, tasks, load) => a.periodMs === periodMs && a.tasks === tasks && a.load === load;

/**
 * The target checks of every canwire row, each the median over the repeats
 * of a figure or of a ratio to a run of the same repeat (its spread kept):
 * |drift|; p99 against the reference loop's; p99 on a blocked event loop
 * against idle; setInterval's p99 against canwire's (blocked); and missed
 * slots, whose median may not exceed the reference loop's.
 * @param {object[]} runs every run (with `repeat`)
 * @param {object[]} summaries the rows' summaries
 * @returns {{ text: string, checks: object[] }}
 */
export function targetChecks(runs, summaries) {
  const checks = [];
  const add = (check, r, s, target, pass) =>
    s &&
    checks.push({ check, scheduler: r.scheduler, periodMs: r.periodMs, tasks: r.tasks, load: r.load, ...s, target, pass: pass(s.median) });
  for (const r of summaries.filter((x) => !x.skipped && CANWIRE.includes(x.scheduler))) {
    const { periodMs, tasks, load } = r;
    const mine = (x) => x.scheduler === r.scheduler && sameRow(x, periodMs, tasks, load);
    const drift = spread(runs.filter((x) => !x.skipped && mine(x)).map((x) => (x.driftPpm === null ? null : Math.abs(x.driftPpm))));
    add("|drift| ppm", r, drift, `<= ${TARGETS.driftPpm}`, (v) => v <= TARGETS.driftPpm);
    // A reference that received almost nothing (an overloaded guest) has no p99 to compare with.
    const reference = (x) => x.scheduler === REFERENCE && sameRow(x, periodMs, tasks, load) && x.frames >= 100 && x.p99Us > 0;
    const vsReference = pairedByRepeat(runs, mine, reference, (a, b) => a.p99Us / b.p99Us);
    add("p99 / reference p99", r, vsReference, `<= ${TARGETS.p99VsReference}`, (v) => v <= TARGETS.p99VsReference);
    const referenceRow = summaries.find((x) => !x.skipped && x.scheduler === REFERENCE && sameRow(x, periodMs, tasks, load));
    if (referenceRow) {
      const missed = r.spread.missed && { ...r.spread.missed, reference: referenceRow.spread.missed };
      add("missed slots", r, missed, `<= reference's ${fmt(referenceRow.missed, 0)}`, (v) => v <= referenceRow.missed);
    }
    if (load === "blocked") {
      const idle = (x) => x.scheduler === r.scheduler && sameRow(x, periodMs, tasks, "idle");
      const vsIdle = pairedByRepeat(runs, mine, idle, (a, b) => a.p99Us / b.p99Us);
      // The reference loop's own blocked / idle in the same repeats: the
      // machine's floor (the busy JS thread takes one of its cores from every
      // process), shown beside canwire's, not part of the verdict.
      const referenceBlocked = (x) => x.scheduler === REFERENCE && sameRow(x, periodMs, tasks, "blocked");
      const referenceIdle = (x) => x.scheduler === REFERENCE && sameRow(x, periodMs, tasks, "idle");
      const floor = pairedByRepeat(runs, referenceBlocked, referenceIdle, (a, b) => a.p99Us / b.p99Us);
      add(
        "p99 blocked / p99 idle",
        r,
        vsIdle && floor ? { ...vsIdle, reference: floor } : vsIdle,
        `<= ${TARGETS.p99BlockedVsIdle}`,
        (v) => v <= TARGETS.p99BlockedVsIdle,
      );
      const js = (x) => x.scheduler === "setInterval" && sameRow(x, periodMs, tasks, "blocked");
      const vsJs = pairedByRepeat(runs, js, mine, (a, b) => a.p99Us / b.p99Us);
      add(
        "setInterval p99 / p99 (blocked)",
        r,
        vsJs,
        `>= ${TARGETS.setIntervalVsCanwireBlocked}`,
        (v) => v >= TARGETS.setIntervalVsCanwireBlocked,
      );
    }
  }
  const header = ["check", "scheduler", "period ms", "tasks", "load", "median", "min-max", "reference's (min-max)", "target", "pass"];
  const body = checks.map((c) => [
    c.check,
    c.scheduler,
    c.periodMs,
    c.tasks,
    c.load,
    fmt(c.median, 2),
    range(c, 2),
    c.reference ? `${fmt(c.reference.median, 2)} (${range(c.reference, 2)})` : "-",
    c.target,
    c.pass ? "yes" : "NO",
  ]);
  const passed = checks.filter((c) => c.pass).length;
  const text = `${table(header, body, 5)}\n${passed}/${checks.length} checks meet their target (in the median of the repeats)`;
  return { text, checks };
}
