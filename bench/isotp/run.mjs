// bench/isotp: ISO-TP throughput and STmin accuracy in the qemu guest
// (npm run bench:isotp): canwire's userspace stack against the kernel's
// can-isotp (through canwire's kernel-socket stack, frame_txtime 0) and
// python-can-isotp, all in the same run.
//
//   npm run build && npm run bench:isotp
//   scripts/socketcan-vm.sh -- node bench/isotp/run.mjs [--repeats 3] [--seconds 0.3] [--skip unshaped,shaped,stmin] [--buses fd-2M,fd-5M]
//
// Throughput, STmin 0, block size 0, one payload at a time, 4095 B and
// 64 KiB (the 32-bit FF_DL escape on both sides):
// - shaped rows: vcan2 shaped with tc tbf to the frame rate of a 500 kbit/s
//   and a 1 Mbit/s classic bus and a 2 and 5 Mbit/s CAN FD bus (formula and
//   why vcan must echo: wire.mjs), each checked first against vcan2's own
//   tx_packets counter; targets: canwire >= 0.95x the kernel, >= 5x python;
// - unshaped rows: vcan0 at whatever rate the guest reaches (ratios only).
// Each case runs REPEATS rounds; in a round every stack measures for SECONDS
// (at least one transfer), in an order that rotates from round to round, so
// drifts of the shared machine's load hit all alike. Figures are the median
// bytes/s of the rounds with min and max, and the median of the per-round
// ratios with min and max.
//
// STmin accuracy: a receiver asks for STmin 1 ms and 0xF5 (500 µs); a raw
// SocketCAN bus records the kernel's receive timestamps (ns) of the sender's
// consecutive frames; the figures are the gap error (gap - STmin) at p50 and
// p99 and the number of gaps shorter than STmin (must be 0).
//
// The userspace driver's benchmark switches (environment, not user
// options; bench/isotp/ab.mjs compares them in interleaved rounds):
// CANWIRE_ISOTP_ECHO_WINDOW=N paces sends on their echoes with a window of
// N frames (0: on sends; by default only devices with a transmit queue
// length, i.e. not vcan, pace on echoes), CANWIRE_ISOTP_CPU_PIN=0 lets the
// driver thread migrate while frames leave.
//
// The last line printed is one JSON object of pass/fail per target.
// TCG emulation is slow: compare the ratios, not the absolute figures.
import { parseArgs } from "node:util";
import { Bus } from "../../dist/index.js";
import { measureCanwire, pair, payload, startPythonCanIsoTp, transfer } from "./stacks.mjs";
import { BUSES, ensureEchoingVcan, FORMULA, measureShapedRate, SHAPED_CHANNEL, shape, tbfArgs, unshape } from "./wire.mjs";

const { values: opts } = parseArgs({
  options: {
    repeats: { type: "string", default: "3" },
    seconds: { type: "string", default: "0.3" },
    skip: { type: "string", default: "" },
    buses: { type: "string", default: "" },
  },
});
const REPEATS = Number(opts.repeats);
const SECONDS = Number(opts.seconds);
const skip = new Set(opts.skip.split(",").filter(Boolean));
const SIZES = [4095, 65536];
const STACKS = ["userspace", "kernel", "python"];
const TARGETS = { oursVsKernel: 0.95, oursVsPythonCanIsoTp: 5 };

const sizeName = (size) => (size === 65536 ? "64KiB" : String(size));

function summary(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1) };
}

/** REPEATS rounds of every stack on one case; figures per stack and ratios. */
async function compare(python, c) {
  const rounds = { userspace: [], kernel: [], python: [] };
  const errors = {};
  for (let round = 0; round < REPEATS; round++) {
    for (let k = 0; k < STACKS.length; k++) {
      const stack = STACKS[(k + round) % STACKS.length];
      const args = { channel: c.channel, size: c.size, fd: c.fd, seconds: SECONDS };
      const r = stack === "python" ? await python.measure(args) : await measureCanwire(stack, args);
      if (r.error) errors[stack] = r.error;
      rounds[stack].push(r.bytesPerSecond ?? Number.NaN);
    }
  }
  const perRound = (other) => rounds.userspace.map((v, i) => v / rounds[other][i]);
  return {
    bytesPerSecond: {
      canwireUserspace: summary(rounds.userspace),
      kernel: summary(rounds.kernel),
      pythonCanIsoTp: summary(rounds.python),
    },
    oursVsKernel: summary(perRound("kernel")),
    oursVsPythonCanIsoTp: summary(perRound("python")),
    ...(Object.keys(errors).length ? { errors } : {}),
  };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Gaps between the sender's consecutive frames, from kernel receive timestamps. */
async function stminAccuracy(stack, stmin, stminNs) {
  const channel = "vcan0";
  const observer = await Bus.open({ interface: "socketcan", channel });
  const p = await pair(stack, channel, false, { stmin });
  try {
    await transfer(p, payload(4095)); // FF + 585 CFs, block size 0: 584 gaps
    const stamps = [];
    for (;;) {
      const batch = await observer.recvBatch({ max: 4096, timeoutMs: 200 });
      if (!batch) break;
      for (let i = 0; i < batch.length; i++) {
        // the sender's consecutive frames: id 0x6E0, PCI 0x2N
        if (batch.id(i) === 0x6e0 && (batch.data(i)[0] & 0xf0) === 0x20) stamps.push(batch.timestampNs(i));
      }
    }
    const errorsUs = [];
    let early = 0;
    let minGapUs = Infinity;
    for (let i = 1; i < stamps.length; i++) {
      const gap = Number(stamps[i] - stamps[i - 1]);
      if (gap < stminNs) early++;
      minGapUs = Math.min(minGapUs, gap / 1000);
      errorsUs.push((gap - stminNs) / 1000);
    }
    errorsUs.sort((a, b) => a - b);
    return {
      consecutiveFrames: stamps.length,
      gapErrorP50Us: quantile(errorsUs, 0.5),
      gapErrorP99Us: quantile(errorsUs, 0.99),
      minGapUs,
      gapsShorterThanStmin: early,
    };
  } catch (error) {
    return { error: error.message };
  } finally {
    await p.close();
    await observer.close();
  }
}

const result = {
  benchmark: "isotp",
  note: "TCG qemu guest; STmin 0, block size 0, one payload at a time; medians of interleaved rounds; compare ratios, not absolute figures",
  repeats: REPEATS,
  secondsPerMeasurement: SECONDS,
  unshaped: {},
  shaped: {},
  stmin: {},
};
const checks = [];
const python = startPythonCanIsoTp();
try {
  if (!skip.has("unshaped")) {
    for (const fd of [false, true])
      for (const size of SIZES) {
        const name = `${sizeName(size)}-${fd ? "fd" : "classic"}`;
        result.unshaped[name] = await compare(python, { channel: "vcan0", size, fd });
        console.error(`unshaped ${name}: ${JSON.stringify(result.unshaped[name].oursVsKernel)}`);
      }
  }
  if (!skip.has("shaped")) {
    const why = ensureEchoingVcan();
    result.shapedSetup = { channel: SHAPED_CHANNEL, formula: FORMULA, skipped: why ?? undefined };
    const only = new Set(opts.buses.split(",").filter(Boolean));
    for (const bus of why ? [] : BUSES.filter((b) => only.size === 0 || only.has(b.name))) {
      shape(bus);
      try {
        const row = { tc: `tc ${tbfArgs(bus).join(" ")}`, shaping: await measureShapedRate(bus), cases: {} };
        result.shaped[bus.name] = row;
        for (const size of SIZES) {
          const c = await compare(python, { channel: SHAPED_CHANNEL, size, fd: bus.fd });
          row.cases[sizeName(size)] = c;
          const name = `${bus.name}/${sizeName(size)}`;
          console.error(`shaped ${name}: ${JSON.stringify(c.oursVsKernel)} vs python ${JSON.stringify(c.oursVsPythonCanIsoTp)}`);
          for (const [target, min] of Object.entries(TARGETS)) {
            const value = c[target]?.median ?? null;
            checks.push({ case: name, target: `${target} >= ${min}`, value, pass: value !== null && value >= min });
          }
        }
      } finally {
        unshape();
      }
    }
  }
} finally {
  python.close();
}
if (!skip.has("stmin")) {
  for (const [name, stmin, ns] of [
    ["1ms", 1, 1_000_000],
    ["500us", 0xf5, 500_000],
  ]) {
    result.stmin[name] = {
      canwireUserspace: await stminAccuracy("userspace", stmin, ns),
      kernel: await stminAccuracy("kernel", stmin, ns),
    };
    const early = result.stmin[name].canwireUserspace.gapsShorterThanStmin ?? null;
    checks.push({ case: `stmin-${name}`, target: "gapsShorterThanStmin == 0", value: early, pass: early === 0 });
  }
}
console.log(JSON.stringify(result, null, 2));
console.log(JSON.stringify({ benchmark: "isotp", pass: checks.every((c) => c.pass), checks }));
