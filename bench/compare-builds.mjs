// bench/compare-builds.mjs: one benchmark, two builds, runs interleaved
// (before, after, before, after, ...) so both see the same machine load, then
// the median of each figure per build and their ratio.
//
//   node bench/compare-builds.mjs BEFORE_DIR AFTER_DIR [--bench virtual|cyclic]
//     [--pairs N] [--json FILE] [-- BENCH_ARGS...]
//
// Each DIR is a built checkout (`npm run build`; for `cyclic` also
// `cargo build --release -p canwire-bus --example deadline_loop`), e.g. a
// worktree of the old commit: `git worktree add ../before <commit>`, copy
// node_modules in, `npm run build` there. Each build runs its own copy of the
// benchmark script. BENCH_ARGS go to every run: for `virtual` the frame count
// (default here 200000), for `cyclic` its flags (default here
// `--seconds 1 --repeats 1 --periods 1,10 --tasks 1,50 --loads idle,blocked
// --schedulers native,reference`).
//
// Prints one table: per row and figure, the median of each build, the ratio
// after / before and every single run (so the noise is visible). Figures
// against the same run's baseline (python-can's CPU per frame; the native
// reference loop's p99) are listed too: they cancel part of the machine's
// load, which the two builds may meet at different moments.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

/** How to run each benchmark and read its figures as `{ "row figure": number }`. */
const BENCHES = {
  virtual: {
    defaults: ["200000"],
    run(dir, args) {
      const out = execFileSync(process.execPath, [join(dir, "bench/virtual-throughput/run.mjs"), ...args], {
        cwd: dir,
        encoding: "utf8",
      });
      const result = JSON.parse(out);
      const figures = {};
      for (const [row, f] of Object.entries(result.canwire)) {
        figures[`${row} frames/s`] = f.framesPerSecond;
        figures[`${row} cpu us/frame`] = f.cpuMicrosPerFrame;
      }
      if (!result.pythonCan.error) {
        figures["pythonCan frames/s"] = result.pythonCan.framesPerSecond;
        figures["pythonCan cpu us/frame"] = result.pythonCan.cpuMicrosPerFrame;
        // the same-run baseline, which neither build changes
        for (const [row, f] of Object.entries(result.canwire)) {
          figures[`${row} cpu / pythonCan cpu`] = f.cpuMicrosPerFrame / result.pythonCan.cpuMicrosPerFrame;
        }
      }
      return figures;
    },
  },
  cyclic: {
    defaults: [
      "--seconds",
      "1",
      "--repeats",
      "1",
      "--periods",
      "1,10",
      "--tasks",
      "1,50",
      "--loads",
      "idle,blocked",
      "--schedulers",
      "native,reference",
    ],
    run(dir, args) {
      const scratch = mkdtempSync(join(tmpdir(), "compare-builds-"));
      const file = join(scratch, "cyclic.json");
      try {
        execFileSync(process.execPath, [join(dir, "bench/cyclic-jitter/run.mjs"), ...args, "--json", file], {
          cwd: dir,
          stdio: ["ignore", "ignore", "inherit"],
        });
        const figures = {};
        const rows = JSON.parse(readFileSync(file, "utf8")).rows.filter((r) => !r.skipped);
        for (const r of rows) {
          const row = `${r.scheduler} ${r.periodMs}ms x${r.tasks} ${r.load}`;
          figures[`${row} p50 us`] = r.p50Us;
          figures[`${row} p99 us`] = r.p99Us;
          figures[`${row} max us`] = r.maxUs;
          figures[`${row} |drift| ppm`] = r.driftPpm === null ? null : Math.abs(r.driftPpm);
          figures[`${row} missed`] = r.missed;
          // the same-run baseline: the native reference loop of the same row, which neither build changes
          const reference = rows.find(
            (x) => x.scheduler === "native reference" && x.periodMs === r.periodMs && x.tasks === r.tasks && x.load === r.load,
          );
          if (reference && r !== reference && reference.p99Us > 0) figures[`${row} p99 / reference p99`] = r.p99Us / reference.p99Us;
        }
        return figures;
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  },
};

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    bench: { type: "string", default: "virtual" },
    pairs: { type: "string", default: "3" },
    json: { type: "string" },
  },
});
const [beforeDir, afterDir, ...benchArgs] = positionals;
const pairs = Number(flags.pairs);
if (!beforeDir || !afterDir || !Number.isInteger(pairs) || pairs < 1 || !Object.hasOwn(BENCHES, flags.bench)) {
  console.error("usage: node bench/compare-builds.mjs BEFORE_DIR AFTER_DIR [--bench virtual|cyclic] [--pairs N] [--json FILE] [-- ARGS]");
  process.exit(2);
}

function median(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const bench = BENCHES[flags.bench];
const args = benchArgs.length > 0 ? benchArgs : bench.defaults;
const builds = { before: resolve(beforeDir), after: resolve(afterDir) };
/** runs[build] = one figures object per run. */
const runs = { before: [], after: [] };
for (let pair = 1; pair <= pairs; pair++) {
  for (const build of ["before", "after"]) {
    console.error(`pair ${pair}/${pairs}: ${build} (${builds[build]})`);
    runs[build].push(bench.run(builds[build], args));
  }
}

const names = [...new Set([...runs.before, ...runs.after].flatMap((f) => Object.keys(f)))];
const fmt = (v) => (v === null || v === undefined ? "-" : Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(3));
const rows = names.map((name) => {
  const before = median(runs.before.map((f) => f[name]));
  const after = median(runs.after.map((f) => f[name]));
  return {
    figure: name,
    before,
    after,
    ratio: before && after !== null ? after / before : null,
    beforeRuns: runs.before.map((f) => f[name] ?? null),
    afterRuns: runs.after.map((f) => f[name] ?? null),
  };
});

const header = ["figure", "before (median)", "after (median)", "after/before", "before runs", "after runs"];
const body = rows.map((r) => [
  r.figure,
  fmt(r.before),
  fmt(r.after),
  r.ratio === null ? "-" : r.ratio.toFixed(2),
  r.beforeRuns.map(fmt).join(" "),
  r.afterRuns.map(fmt).join(" "),
]);
const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
const line = (cells) => cells.map((c, i) => (i === 0 || i > 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(`\n${flags.bench}: ${pairs} interleaved pairs, args ${args.join(" ")}\nbefore: ${builds.before}\nafter:  ${builds.after}\n`);
console.log([line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n"));
if (flags.json) {
  writeFileSync(flags.json, JSON.stringify({ bench: flags.bench, pairs, args, builds, node: process.version, rows }, null, 2));
  console.log(`\nJSON: ${flags.json}`);
}
