// bench/socketcan-rx: what receiving SocketCAN traffic costs, in the qemu
// guest (npm run bench:socketcan), for canwire's batch path and per-message
// iterator with their defaults, candump (C), node-can (npm `socketcan`, the
// incumbent Node library) and python-can (Debian's python3-can), in one run.
//
//   node bench/socketcan-rx/prepare.mjs                          # on the host
//   scripts/socketcan-vm.sh -- node bench/socketcan-rx/run.mjs [--rounds 3]
//     [--rates 2000,5000,8000] [--seconds 1.5] [--flood 20000] [--only a,b]
//     [--options JSON] [--with-immediate] [--baseline DIR]
//
// --with-immediate adds canwire's batch path with `rxCoalesceUs: 0` (every
// frame read at once, the default before adaptive coalescing) as a same-run
// reference for what the coalescing saves. --baseline DIR adds both canwire
// receivers once more, run from another build of canwire (DIR holds its
// dist/, native/ and bench/socketcan-rx/canwire_rx.mjs), for a same-run A/B
// of a change.
//
// Offered load: each rate is held by paced_send (absolute deadlines, a late
// wake catches up, so the average holds under TCG; the achieved rate is
// measured and printed), then a flood of `cangen -g 0`. Every receiver but
// candump is one process per round, warmed up by a flood of its own (JIT)
// before the measured phases; candump, whose output is buffered until it
// exits, is one process per phase, started before the traffic.
//
// Per receiver and rate: CPU µs per received frame (the receiver's threads'
// run time from /proc/PID/task/*/schedstat, the same precise sum that
// utime + stime come from, taken just before the traffic and once the
// receiver has every frame or went quiet), frames lost, the achieved rate,
// and for canwire the share of its receive thread. For canwire also a table
// per thread group (main JS thread, receive thread, V8 platform threads, the
// rest): CPU µs and wake-ups (voluntary context switches) per frame, and the
// idle floor (the bus open, no traffic, for --seconds) per second. Rounds interleave the
// receivers in rotating order; figures are medians with [min, max]. The last
// line is JSON with pass/fail per target of issue 16 item 1. TCG emulation
// on a shared machine: compare ratios only. Use a release build.
import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    rates: { type: "string", default: "2000,5000,8000" },
    seconds: { type: "string", default: "1.5" },
    flood: { type: "string", default: "20000" },
    only: { type: "string" },
    options: { type: "string", default: "{}" },
    "with-immediate": { type: "boolean", default: false },
    baseline: { type: "string" },
  },
});
const ROUNDS = Number(args.rounds);
const RATES = args.rates.split(",").map(Number);
const SECONDS = Number(args.seconds);
const FLOOD_FRAMES = Number(args.flood);
/** Bus options of both canwire receivers; `{}` measures the defaults. */
const CANWIRE_OPTIONS = JSON.parse(args.options);

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const nodeCanDir = here("../../target/bench-node-can");
const pacedSend = here("../../target/bench-socketcan-rx/paced_send");
const IFACE = "vcan0";

/** One phase of offered load: a paced rate, or the flood (rate 0). */
const phases = [
  ...RATES.map((rate) => ({ name: String(rate), rate, frames: Math.round(rate * SECONDS) })),
  { name: "flood", rate: 0, frames: FLOOD_FRAMES },
];

/** Sends a phase's frames; resolves the achieved rate in frames/s. */
async function offer(phase) {
  if (phase.rate > 0) {
    const { stdout } = await run(pacedSend, [IFACE, String(phase.rate), String(phase.frames)]);
    const { frames, seconds } = JSON.parse(stdout);
    return (frames - 1) / seconds;
  }
  const t0 = performance.now();
  await run("cangen", [IFACE, "-g", "0", "-n", String(phase.frames), "-L", "8", "-I", "i", "-D", "i"]);
  return phase.frames / ((performance.now() - t0) / 1000);
}

/**
 * The threads of `pid` (/proc/PID/task/TID): on-CPU ns (schedstat, first
 * field) and voluntary / involuntary context switches (status) per thread,
 * grouped by what the thread is:
 * - `rxThread`: canwire's receive thread (named `canwire-rx-*`);
 * - `main`: the process's first thread (Node's JS thread, candump itself);
 * - `v8`: Node's platform threads (GC and compiler tasks);
 * - `other`: the rest (libuv's thread pool, Node's signal watcher, a
 *   receiver's own threads).
 * Node 20 leaves its threads unnamed ("node"), so they are told apart by
 * start-up order: the main thread, the delayed-task thread and the
 * `--v8-pool-size` (default 4) workers start first, in that order.
 */
function sample(pid) {
  const threads = {};
  const tids = readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .sort((a, b) => a - b);
  let unnamed = 0;
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      const voluntary = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const involuntary = Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      let group = "other";
      if (comm.startsWith("canwire-rx")) group = "rxThread";
      else if (tid === pid) group = "main";
      else if (comm === "node" && ++unnamed <= 1 + V8_POOL_SIZE) group = "v8";
      threads[tid] = { group, ns, voluntary, involuntary };
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads;
}
/** Node's default `--v8-pool-size`. */
const V8_POOL_SIZE = 4;
const GROUPS = ["main", "rxThread", "v8", "other"];

/**
 * What the threads did between two samples: CPU ns per group, and switches
 * per group (a voluntary switch is the thread going to sleep: each one is a
 * wake-up later; involuntary ones are preemptions), plus the total.
 */
function diff(after, before) {
  const cpu = {};
  const wakes = {};
  const preempted = {};
  let switches = 0;
  for (const [tid, t] of Object.entries(after)) {
    const b = before[tid] ?? { ns: 0, voluntary: 0, involuntary: 0 };
    cpu[t.group] = (cpu[t.group] ?? 0) + t.ns - b.ns;
    wakes[t.group] = (wakes[t.group] ?? 0) + t.voluntary - b.voluntary;
    preempted[t.group] = (preempted[t.group] ?? 0) + t.involuntary - b.involuntary;
    switches += t.voluntary - b.voluntary + t.involuntary - b.involuntary;
  }
  return { cpu, wakes, preempted, switches };
}
const total = (times) => Object.values(times).reduce((a, b) => a + b, 0);

/** A receiver process that answers each line on stdin with its count so far. */
class Persistent {
  constructor(command, argv) {
    this.child = spawn(command, argv, { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, NODE_CAN_DIR: nodeCanDir } });
    this.lines = [];
    this.waiting = [];
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
    this.exited = new Promise((r) => this.child.on("exit", r));
  }
  next() {
    return this.lines.length ? Promise.resolve(this.lines.shift()) : new Promise((r) => this.waiting.push(r));
  }
  async ready() {
    const line = await Promise.race([this.next(), this.exited.then(() => "exited")]);
    if (line !== "ready") throw new Error(`receiver did not start: ${line}`);
  }
  async count() {
    this.child.stdin.write("count\n");
    return JSON.parse(await this.next());
  }
  /** Waits until `expected` frames are in, or the count stands still for 400 ms. */
  async settle(expected) {
    let last = await this.count();
    let still = 0;
    while (last.received < expected && still < 400) {
      await sleep(50);
      const now = await this.count();
      still = now.received === last.received ? still + 50 : 0;
      last = now;
    }
    return last;
  }
  async close() {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Measures `phase` on an open persistent receiver. */
async function measurePersistent(receiver, phase) {
  const before = await receiver.count();
  const sample0 = sample(receiver.child.pid);
  const achievedRate = await offer(phase);
  const after = await receiver.settle(before.received + phase.frames);
  const threads = diff(sample(receiver.child.pid), sample0);
  const extra = after.droppedKernel === undefined ? {} : { droppedKernel: after.droppedKernel - before.droppedKernel };
  if (after.coalescingWaits !== undefined) extra.coalescingWaits = after.coalescingWaits - before.coalescingWaits;
  return { received: after.received - before.received, ...threads, achievedRate, ...extra };
}

/** The idle floor: what an open receiver's threads do in `seconds` without traffic. */
async function measureIdle(receiver, seconds) {
  await receiver.count();
  const sample0 = sample(receiver.child.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const threads = diff(sample(receiver.child.pid), sample0);
  return { seconds: (performance.now() - t0) / 1000, ...threads };
}

/** A receiver kept open for a round: started, warmed up on a flood, then every phase. */
function persistent(command, argv) {
  return async () => {
    const receiver = new Persistent(command, argv);
    try {
      await receiver.ready();
      await offer({ rate: 0, frames: 5000 }); // warm-up: JIT, page faults, buffers
      await receiver.settle(5000);
      await sleep(1000); // the warm-up's JIT and GC work settles first
      const out = { idle: await measureIdle(receiver, SECONDS) };
      for (const phase of phases) out[phase.name] = await measurePersistent(receiver, phase);
      return out;
    } finally {
      await receiver.close();
    }
  };
}

/** candump -L to a file, one process per phase: its buffered output is complete once it exits. */
async function candump() {
  const out = {};
  for (const phase of phases) {
    const file = "/tmp/bench-candump.log";
    const fd = openSync(file, "w");
    const child = spawn("candump", ["-L", IFACE], { stdio: ["ignore", fd, "inherit"] });
    closeSync(fd);
    const exited = new Promise((r) => child.on("exit", r));
    await sleep(300); // started and bound
    const sample0 = sample(child.pid);
    const achievedRate = await offer(phase);
    await sleep(300); // the last frames read
    const threads = diff(sample(child.pid), sample0);
    child.kill("SIGINT");
    await exited;
    const received = readFileSync(file, "utf8").split("\n").filter(Boolean).length;
    out[phase.name] = { received, ...threads, achievedRate };
  }
  return out;
}

async function missing() {
  const why = {};
  if (!existsSync(pacedSend)) why.pacedSend = "paced_send not built: run node bench/socketcan-rx/prepare.mjs on the host";
  if (!existsSync(`${nodeCanDir}/node_modules/socketcan/build/Release/can.node`))
    why.nodeCan = "node-can not installed: run node bench/socketcan-rx/prepare.mjs on the host";
  try {
    await run("/usr/bin/python3", ["-c", "import can"]);
  } catch {
    why.pythonCan = "python3-can not installed (apt-get install python3-can)";
  }
  return why;
}

const absent = await missing();
if (absent.pacedSend) throw new Error(absent.pacedSend);
const canwireOptions = JSON.stringify(CANWIRE_OPTIONS);
let receivers = {
  canwireBatch: persistent(process.execPath, [here("./canwire_rx.mjs"), IFACE, "batch", canwireOptions]),
  canwirePerMessage: persistent(process.execPath, [here("./canwire_rx.mjs"), IFACE, "message", canwireOptions]),
  ...(args["with-immediate"]
    ? {
        canwireBatchImmediate: persistent(process.execPath, [
          here("./canwire_rx.mjs"),
          IFACE,
          "batch",
          JSON.stringify({ rxCoalesceUs: 0 }),
        ]),
      }
    : {}),
  ...(args.baseline
    ? {
        canwireBatchBaseline: persistent(process.execPath, [
          `${args.baseline}/bench/socketcan-rx/canwire_rx.mjs`,
          IFACE,
          "batch",
          canwireOptions,
        ]),
        canwirePerMessageBaseline: persistent(process.execPath, [
          `${args.baseline}/bench/socketcan-rx/canwire_rx.mjs`,
          IFACE,
          "message",
          canwireOptions,
        ]),
      }
    : {}),
  candump,
  ...(absent.nodeCan ? {} : { nodeCan: persistent(process.execPath, [here("./node_can_rx.mjs"), IFACE]) }),
  ...(absent.pythonCan ? {} : { pythonCan: persistent("/usr/bin/python3", [here("./python_can_rx.py"), IFACE]) }),
};
if (args.only) receivers = Object.fromEntries(Object.entries(receivers).filter(([name]) => args.only.split(",").includes(name)));
const names = Object.keys(receivers);

/** rounds[name] = one result per round. */
const rounds = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) {
    const result = await receivers[name]();
    rounds[name].push(result);
    const line = phases
      .map((p) => {
        const r = result[p.name];
        return `${p.name}: ${(total(r.cpu) / 1e3 / Math.max(1, r.received)).toFixed(1)} µs/frame, ${(r.switches / Math.max(1, r.received)).toFixed(2)} switches/frame, lost ${p.frames - r.received}`;
      })
      .join("; ");
    console.error(`bench: round ${round + 1} ${name}: ${line}`);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round1 = (x) => Math.round(x * 10) / 10;
/** Median and spread of `pick` over the rounds. */
const stat = (results, pick) => {
  const xs = results.map(pick);
  return { median: round1(median(xs)), min: round1(Math.min(...xs)), max: round1(Math.max(...xs)) };
};

const figures = {};
for (const name of names) {
  figures[name] = {};
  for (const p of phases) {
    const results = rounds[name].map((r) => r[p.name]);
    const perFrame = (r) => total(r.cpu) / 1e3 / Math.max(1, r.received);
    const row = {
      cpuMicrosPerFrame: stat(results, perFrame),
      lost: stat(results, (r) => p.frames - r.received),
      switchesPerFrame: Math.round(100 * median(results.map((r) => r.switches / Math.max(1, r.received)))) / 100,
      achievedRate: stat(results, (r) => r.achievedRate).median,
    };
    if (results[0].cpu.rxThread !== undefined)
      row.rxThreadShare = stat(results, (r) => (100 * (r.cpu.rxThread ?? 0)) / total(r.cpu)).median;
    if (results[0].droppedKernel !== undefined) row.droppedKernel = stat(results, (r) => r.droppedKernel).max;
    figures[name][p.name] = row;
  }
}

/**
 * canwire's per-thread breakdown (median over rounds): per phase, each
 * thread group's CPU µs and wake-ups (voluntary switches) per received frame;
 * for the idle floor (the bus open, no traffic), CPU µs and wake-ups per second.
 */
const threadTable = {};
for (const name of names.filter((n) => n.startsWith("canwire"))) {
  threadTable[name] = {};
  for (const phaseName of ["idle", ...phases.map((p) => p.name)]) {
    const results = rounds[name].map((r) => r[phaseName]);
    const per = (r) => (phaseName === "idle" ? r.seconds : Math.max(1, r.received));
    const row = {};
    for (const g of GROUPS) {
      if (!results.some((r) => r.cpu[g] !== undefined)) continue;
      row[g] = {
        cpuMicros: round1(median(results.map((r) => (r.cpu[g] ?? 0) / 1e3 / per(r)))),
        wakes: Math.round(1000 * median(results.map((r) => (r.wakes[g] ?? 0) / per(r)))) / 1000,
      };
    }
    if (results[0].coalescingWaits !== undefined)
      row.rxCoalescingWaits = Math.round(1000 * median(results.map((r) => r.coalescingWaits / per(r)))) / 1000;
    threadTable[name][phaseName] = row;
  }
  console.error(`bench: ${name} per thread (idle: per second; rates: per frame), CPU µs / wake-ups`);
  console.error(`  ${"phase".padEnd(8)}${GROUPS.map((g) => g.padStart(20)).join("")}`);
  for (const phaseName of ["idle", ...phases.map((p) => p.name)]) {
    const row = threadTable[name][phaseName];
    const cells = GROUPS.map((g) => (row[g] ? `${row[g].cpuMicros} / ${row[g].wakes}` : "-").padStart(20));
    console.error(`  ${phaseName.padEnd(8)}${cells.join("")}`);
  }
}

const cpuOf = (name, phase) => figures[name]?.[phase]?.cpuMicrosPerFrame.median;
const lostOf = (name, phase) => figures[name]?.[phase]?.lost.median;
const ratio = (a, b) => (a === undefined || b === undefined ? undefined : Number((a / b).toFixed(3)));
const ratios = {};
const targets = {};
for (const p of phases) {
  ratios[p.name] = {};
  for (const name of ["canwireBatch", "canwirePerMessage", "canwireBatchBaseline", "canwirePerMessageBaseline"]) {
    if (!figures[name]) continue;
    for (const [base, label] of [
      ["candump", "Candump"],
      ["nodeCan", "NodeCan"],
      ["pythonCan", "PythonCan"],
    ]) {
      if (figures[base]) ratios[p.name][`${name}CpuVs${label}`] = ratio(cpuOf(name, p.name), cpuOf(base, p.name));
    }
    if (name.endsWith("Baseline")) {
      // another build: its ratios are shown, and against this build's; no targets
      const current = name.replace("Baseline", "");
      ratios[p.name][`${current}CpuVsBaseline`] = ratio(cpuOf(current, p.name), cpuOf(name, p.name));
      continue;
    }
    if (p.rate > 0) {
      // at a rate the baseline holds: CPU per frame against it
      if (figures.candump && lostOf("candump", p.name) === 0)
        targets[`${name} CPU/frame <= 1.0x candump at ${p.name}/s`] = {
          value: ratio(cpuOf(name, p.name), cpuOf("candump", p.name)),
          limit: 1.0,
        };
      if (figures.nodeCan && lostOf("nodeCan", p.name) === 0)
        targets[`${name} CPU/frame <= 0.3x node-can at ${p.name}/s`] = {
          value: ratio(cpuOf(name, p.name), cpuOf("nodeCan", p.name)),
          limit: 0.3,
        };
      targets[`${name} loses nothing at ${p.name}/s`] = { value: figures[name][p.name].lost.max, limit: 0 };
    } else {
      targets[`${name} loses nothing at the flood`] = { value: figures[name][p.name].lost.max, limit: 0 };
    }
  }
}
for (const t of Object.values(targets)) t.pass = t.value !== undefined && t.value <= t.limit;

const result = {
  benchmark: "socketcan-rx",
  note: "TCG qemu guest on a shared machine: compare ratios only. CPU = the receiver's threads' run time (schedstat) per received frame; medians over rounds with [min, max].",
  rounds: ROUNDS,
  phases: phases.map(({ name, rate, frames }) => ({ name, offeredRate: rate || "flood (cangen -g 0)", frames })),
  canwireOptions: CANWIRE_OPTIONS,
  missing: absent,
  figures,
  threads: threadTable,
  ratios,
};
console.log(JSON.stringify(result, null, 2));
console.log(JSON.stringify({ benchmark: "socketcan-rx", pass: Object.values(targets).every((t) => t.pass), targets }));
