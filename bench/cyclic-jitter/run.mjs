// bench/cyclic-jitter: how close to its ideal instants each cyclic frame goes
// out, for canwire's native scheduler (and the kernel's BCM via
// `scheduler: "kernel"` on SocketCAN), against Node's setInterval and a
// minimal native absolute-deadline loop (the "best achievable on this
// machine" reference) in the same run (issues 4 and 16).
//
//   npm run build && npm run bench:cyclic              (host, virtual bus)
//   npm run bench:cyclic:kernel                        (qemu guest, SocketCAN vcan0)
//   node bench/cyclic-jitter/run.mjs [--seconds S] [--repeats N] [--interface virtual|socketcan]
//     [--channel NAME] [--periods 1,10] [--tasks 1,50,500] [--loads idle,blocked]
//     [--schedulers native,kernel,setInterval,reference] [--json FILE]
//
// Rows: scheduler x period x tasks x load, each run N times (--repeats, env
// CYCLIC_REPEATS, default 3) for S seconds (env CYCLIC_SECONDS, default 2).
// The repeats are interleaved: repeat after repeat every row is measured,
// the schedulers of a row one after another (in reverse order every other
// repeat), so each comparison is between runs seconds apart. setInterval
// runs on the blocked rows only (the one target it enters). Load "blocked":
// the main event loop busy-waits 5 ms every 50 ms. Frames are timestamped
// on receive by a bus in a worker thread: on the virtual bus the stamp is
// taken at send, on SocketCAN by the kernel. The reference loop receives its
// own frames the same way in its own process; its tasks' phases are spread
// over the period as those of tasks created one after another are, on
// canwire's 100 us start grid, and it sends all frames due at a wake-up in
// one batch (see deadline_loop.rs: with one wake-up per exactly spread
// deadline it kept a core 96 % busy at 500 x 1 ms and was stopped by the
// kernel's real-time throttling for 50 ms every second). See
// analysis.mjs for slots, the fitted start, drift and errors, repeats.mjs
// for the medians. A `scheduler: "kernel"` row that throws is skipped with
// a printed note.
//
// Prints one table of medians with their spread, the target checks (each in
// the median of the repeats, with its min-max) and, last, one JSON line
// `{"benchmark":"cyclic-jitter",...,"pass":..,"checks":[..]}`; --json FILE
// also writes every run (sender counters included) and the summaries.
//
// Two builds against each other, runs interleaved, medians (and each
// canwire p99 against the same run's reference loop):
//   node bench/compare-builds.mjs BEFORE_DIR AFTER_DIR --bench cyclic --pairs 3
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { Bus } from "../../dist/index.js";
import { analyzeRow, byTask } from "./analysis.mjs";
import { summarizeRows } from "./repeats.mjs";
import { rowsTable, targetChecks } from "./report.mjs";
import { blockEventLoop, runCanwire, runReference, runSetInterval } from "./schedulers.mjs";

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: process.env.CYCLIC_SECONDS ?? "2" },
    repeats: { type: "string", default: process.env.CYCLIC_REPEATS ?? "3" },
    interface: { type: "string", default: "virtual" },
    channel: { type: "string" },
    periods: { type: "string", default: "1,10" },
    tasks: { type: "string", default: "1,50,500" },
    loads: { type: "string", default: "idle,blocked" },
    schedulers: { type: "string", default: "native,kernel,setInterval,reference" },
    json: { type: "string" },
  },
});
const list = (text) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const durationMs = Math.round(Number(flags.seconds) * 1000);
const iface = flags.interface;
const channel = flags.channel ?? (iface === "socketcan" ? "vcan0" : `cyclic-jitter-${process.pid}`);
const periods = list(flags.periods).map(Number);
const taskCounts = list(flags.tasks).map(Number);
const loads = list(flags.loads);
const schedulers = list(flags.schedulers);
const repeats = Number(flags.repeats);
if (
  !(durationMs > 0) ||
  !(Number.isInteger(repeats) && repeats >= 1) ||
  periods.some((p) => !(p > 0)) ||
  taskCounts.some((n) => !(n >= 1 && n <= 1536))
) {
  console.error("usage: --seconds S (> 0) --repeats N (>= 1) --periods MS,... (> 0) --tasks N,... (1..1536)");
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The receiving worker, with a request/answer helper. */
function startReceiver() {
  const worker = new Worker(new URL("./receiver.mjs", import.meta.url), { workerData: { interface: iface, channel } });
  const waiters = [];
  worker.on("message", (m) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
  });
  worker.on("error", (e) => {
    console.error("receiver failed:", e);
    process.exit(1);
  });
  const answer = (type) => new Promise((resolve) => waiters.push({ type, resolve }));
  const ready = answer("ready");
  return {
    ready,
    async begin() {
      const begun = answer("begun");
      worker.postMessage({ type: "begin" });
      await begun;
    },
    async collect() {
      const rows = answer("rows");
      worker.postMessage({ type: "collect" });
      return rows;
    },
    close: () => worker.postMessage({ type: "close" }),
  };
}

const receiver = startReceiver();
await receiver.ready;
const bus = await Bus.open({ interface: iface, channel });

/** Measures one row: starts the load, runs the sender, analyses what was received. */
async function measure(scheduler, periodMs, tasks, load, ms = durationMs) {
  const row = {
    scheduler: scheduler === "reference" ? "native reference" : scheduler === "setInterval" ? "setInterval" : `canwire ${scheduler}`,
    periodMs,
    tasks,
    load,
  };
  const expected = Math.ceil((tasks * ms) / periodMs);
  const selfMeasured = scheduler === "reference";
  if (!selfMeasured) await receiver.begin();
  const stopLoad = load === "blocked" ? blockEventLoop(5, 50) : () => {};
  const options = { interface: iface, channel, periodMs, tasks, durationMs: ms };
  let result;
  try {
    if (scheduler === "native" || scheduler === "kernel") result = await runCanwire(bus, scheduler, options);
    else if (scheduler === "setInterval") result = await runSetInterval(bus, options);
    else result = await runReference(options);
  } finally {
    stopLoad();
  }
  await sleep(50);
  const rx = selfMeasured ? result.rx : await receiver.collect();
  if (result.skipped) return { ...row, skipped: result.skipped };
  const figures = analyzeRow(byTask(rx), periodMs * 1e6, result.ring, result.unwrapByTime ?? true);
  return { ...row, ...figures, expected, rxDropped: rx.dropped, senderStats: result.stats };
}

const order = ["native", "kernel", "reference", "setInterval"].filter((s) => schedulers.includes(s));
const runs = [];
const notes = new Set();
if (order.includes("kernel") && iface !== "socketcan")
  notes.add("canwire kernel: not measured (the kernel scheduler needs --interface socketcan)");
// Warm-up: the JIT, the scheduler thread, the worker, the page cache for the reference binary.
for (const scheduler of order.filter((s) => s !== "kernel")) await measure(scheduler, 1, 10, "idle", 300);
console.error(`cyclic-jitter: ${iface} ${channel}, ${repeats} x ${durationMs} ms per row, node ${process.version}`);
for (let repeat = 0; repeat < repeats; repeat++) {
  const turn = repeat % 2 ? [...order].reverse() : order;
  for (const periodMs of periods) {
    for (const tasks of taskCounts) {
      for (const load of loads) {
        for (const scheduler of turn) {
          if (scheduler === "kernel" && iface !== "socketcan") continue;
          if (scheduler === "setInterval" && load !== "blocked") continue;
          const run = { repeat, ...(await measure(scheduler, periodMs, tasks, load)) };
          runs.push(run);
          const label = `  [${repeat + 1}/${repeats}] ${run.scheduler} ${periodMs} ms x${tasks} ${load}`;
          if (run.skipped) {
            notes.add(`${run.scheduler}: skipped (${run.skipped})`);
            console.error(`${label}: skipped`);
            continue;
          }
          console.error(`${label}: p99 ${run.p99Us.toFixed(1)} us, ${run.frames} frames, ${run.missed} missed`);
          const where = `${run.scheduler} ${periodMs} ms x${tasks} ${load} (repeat ${repeat + 1})`;
          if (run.rxDropped > 0) notes.add(`${where}: the receiver lost ${run.rxDropped} frames`);
          if (run.senderStats?.sendErrors > 0)
            notes.add(`${where}: ${run.senderStats.sendErrors} sends failed (${run.senderStats.lastError})`);
        }
      }
    }
  }
}
receiver.close();
await bus.close();

const host = iface === "socketcan" ? `SocketCAN ${channel}, kernel receive timestamps` : "virtual bus, stamped at send";
const rows = summarizeRows(runs);
console.log(
  `\ncyclic-jitter (${host}; ${repeats} interleaved repeats of ${durationMs / 1000} s per row, medians; |error| vs start + n * period, start fitted per task as the median offset; drift: robust slope per task, the worst task shown)\n`,
);
console.log(rowsTable(rows));
for (const note of notes) console.log(`note: ${note}`);
const { text, checks } = targetChecks(runs, rows);
console.log(`\ntargets\n\n${text}`);
if (flags.json) {
  writeFileSync(
    flags.json,
    JSON.stringify(
      { benchmark: "cyclic-jitter", interface: iface, channel, durationMs, repeats, node: process.version, rows, runs, checks },
      null,
      2,
    ),
  );
  console.log(`\nJSON: ${flags.json}`);
}
const verdicts = checks.map(({ check, scheduler, periodMs, tasks, load, median, min, max, reference, target, pass }) => ({
  check,
  scheduler,
  periodMs,
  tasks,
  load,
  median,
  min,
  max,
  ...(reference ? { reference } : {}),
  target,
  pass,
}));
console.log(
  JSON.stringify({
    benchmark: "cyclic-jitter",
    interface: iface,
    repeats,
    seconds: durationMs / 1000,
    pass: checks.every((c) => c.pass),
    checks: verdicts,
  }),
);
