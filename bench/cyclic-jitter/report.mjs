// Printing of bench/cyclic-jitter: the table of rows and the target checks.

/** Targets of issue 4. */
export const TARGETS = {
  driftPpm: 50,
  p99VsReference: 1.5,
  p99BlockedVsIdle: 1.2,
  setIntervalVsCanwireBlocked: 10,
};

const CANWIRE = ["canwire native", "canwire kernel"];

function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "-";
  return value.toFixed(digits);
}

function table(header, rows, leftColumns) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < leftColumns ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The table of measured rows. */
export function rowsTable(rows) {
  const header = ["scheduler", "period ms", "tasks", "load", "drift ppm", "p50 us", "p99 us", "max us", "frames", "missed"];
  const body = rows
    .filter((r) => !r.skipped)
    .map((r) => [
      r.scheduler,
      r.periodMs,
      r.tasks,
      r.load,
      fmt(r.driftPpm, 2),
      fmt(r.p50Us, 2),
      fmt(r.p99Us, 1),
      fmt(r.maxUs, 0),
      r.frames,
      r.missed,
    ]);
  return table(header, body, 4);
}

function find(rows, scheduler, periodMs, tasks, load) {
  return rows.find((r) => !r.skipped && r.scheduler === scheduler && r.periodMs === periodMs && r.tasks === tasks && r.load === load);
}

/**
 * The target checks: one line per comparison, with the ratio and whether it
 * meets the target.
 * @returns {{ text: string, checks: object[] }}
 */
export function targetChecks(rows) {
  const checks = [];
  const add = (check, scheduler, r, value, target, pass) =>
    checks.push({ check, scheduler, periodMs: r.periodMs, tasks: r.tasks, load: r.load, value, target, pass });
  for (const scheduler of CANWIRE) {
    for (const r of rows.filter((x) => !x.skipped && x.scheduler === scheduler)) {
      if (r.driftPpm !== null)
        add("|drift| ppm", scheduler, r, Math.abs(r.driftPpm), `<= ${TARGETS.driftPpm}`, Math.abs(r.driftPpm) <= TARGETS.driftPpm);
      const ref = find(rows, "native reference", r.periodMs, r.tasks, r.load);
      // A reference that received almost nothing (an overloaded guest) has no p99 to compare with.
      if (ref && ref.frames >= 100 && ref.p99Us > 0) {
        const ratio = r.p99Us / ref.p99Us;
        add("p99 / reference p99", scheduler, r, ratio, `<= ${TARGETS.p99VsReference}`, ratio <= TARGETS.p99VsReference);
      }
      if (r.load === "blocked") {
        const idle = find(rows, scheduler, r.periodMs, r.tasks, "idle");
        if (idle) {
          const ratio = r.p99Us / idle.p99Us;
          add("p99 blocked / p99 idle", scheduler, r, ratio, `<= ${TARGETS.p99BlockedVsIdle}`, ratio <= TARGETS.p99BlockedVsIdle);
        }
        const js = find(rows, "setInterval", r.periodMs, r.tasks, "blocked");
        if (js) {
          const ratio = js.p99Us / r.p99Us;
          add(
            "setInterval p99 / p99 (blocked)",
            scheduler,
            r,
            ratio,
            `>= ${TARGETS.setIntervalVsCanwireBlocked}`,
            ratio >= TARGETS.setIntervalVsCanwireBlocked,
          );
        }
      }
    }
  }
  const header = ["check", "scheduler", "period ms", "tasks", "load", "value", "target", "pass"];
  const body = checks.map((c) => [c.check, c.scheduler, c.periodMs, c.tasks, c.load, fmt(c.value, 2), c.target, c.pass ? "yes" : "NO"]);
  const passed = checks.filter((c) => c.pass).length;
  const text = `${table(header, body, 5)}\n${passed}/${checks.length} checks meet their target`;
  return { text, checks };
}
