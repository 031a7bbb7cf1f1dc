// bench/socketcan-rx: receiving a `cangen` flood on vcan0, in the qemu guest
// (npm run bench:socketcan), by canwire's batch path and per-message iterator,
// candump (C), node-can (npm `socketcan`, the incumbent Node library, set up by
// prepare.mjs) and Debian's python3-can, in the same run.
//
//   node bench/socketcan-rx/prepare.mjs                      # on the host
//   scripts/socketcan-vm.sh -- node bench/socketcan-rx/run.mjs [FRAMES]
//
// Two figures per receiver:
// - CPU µs per received frame under a `cangen -g 0` flood of FRAMES frames
//   (cangen sets the pace, so every receiver sees about the same rate);
// - the drop-free rate: cangen's gap is shortened step by step (0.2 ms ... 0)
//   and the fastest offered rate (frames / cangen's run time) at which the
//   receiver got every frame is kept; "atLeast" when even -g 0 lost nothing.
// Every receiver is a process of its own, started and "ready" before the
// flood, its CPU time counted from then, with its defaults (canwire: 4 MiB
// receive buffer; the others: the kernel's); canwire also with rxCoalesceUs
// 1000, the setting of canwire log and canwire dump. Prints JSON with the
// ratios to candump and the targets. TCG emulation: only the ratios mean
// anything. Use a release build.
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const frames = Number(process.argv[2] ?? 100_000);
const GAPS_MS = ["0.2", "0.1", "0.05", "0.02", "0.01", "0.005", "0"];
const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const nodeCanDir = here("../../target/bench-node-can");

/** Frames for one sweep step: about half a second of traffic, 2 000..20 000. */
const sweepFrames = (gapMs) => (Number(gapMs) === 0 ? 20_000 : Math.min(20_000, Math.max(2_000, Math.round(500 / Number(gapMs)))));

async function flood(n, gapMs) {
  const t0 = performance.now();
  await run("cangen", ["vcan0", "-g", gapMs, "-n", String(n), "-L", "8", "-I", "i", "-D", "i"]);
  return (performance.now() - t0) / 1000;
}

/** A receiver process started before the flood; it prints what it received. */
function external(command, args, parse, waitForReady) {
  return async (n, gapMs) => {
    const child = spawn(command, args(n), { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_CAN_DIR: nodeCanDir } });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (out += d));
    const closed = new Promise((r) => child.on("close", r));
    if (waitForReady) while (!out.includes("ready")) await sleep(50);
    else await sleep(500);
    await sleep(100);
    const floodSeconds = await flood(n, gapMs);
    await closed;
    return { ...parse(out), floodSeconds };
  };
}

const candump = external(
  "sh",
  (n) => ["-c", `timeout 120 candump -L -n ${n} -T 3000 vcan0 > /tmp/candump.out; echo; times`],
  (out) => {
    const received = readFileSync("/tmp/candump.out", "utf8").split("\n").filter(Boolean).length;
    // `times` prints the shell's, then its children's user and system time: "0m1.23s 0m0.45s"
    const child = out
      .trim()
      .split("\n")
      .at(-1)
      .match(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/);
    const cpuSeconds = child ? Number(child[1]) * 60 + Number(child[2]) + Number(child[3]) * 60 + Number(child[4]) : NaN;
    return { received, cpuSeconds };
  },
  false,
);
const lastJson = (out) => JSON.parse(out.trim().split("\n").at(-1));
/** canwire in its own process (canwire_rx.mjs), `kind` "batch" or "message". */
const canwire = (kind, options = {}) =>
  external(process.execPath, (n) => [here("./canwire_rx.mjs"), "vcan0", String(n), kind, JSON.stringify(options)], lastJson, true);
const nodeCan = external(process.execPath, (n) => [here("./node_can_rx.mjs"), "vcan0", String(n)], lastJson, true);
const pythonCan = external("/usr/bin/python3", (n) => [here("./python_can_rx.py"), "vcan0", String(n)], lastJson, true);

async function available() {
  const why = {};
  if (!existsSync(`${nodeCanDir}/node_modules/socketcan/build/Release/can.node`))
    why.nodeCan = "node-can not installed: run node bench/socketcan-rx/prepare.mjs on the host";
  try {
    await run("/usr/bin/python3", ["-c", "import can"]);
  } catch {
    why.pythonCan = "python3-can not installed (apt-get install python3-can)";
  }
  return why;
}

/** CPU per frame under a -g 0 flood of `frames`. */
async function cpuFigure(receiver) {
  const r = await receiver(frames, "0");
  return { ...r, lost: frames - r.received, cpuMicrosPerFrame: (r.cpuSeconds * 1e6) / Math.max(1, r.received) };
}

/** The fastest offered rate with nothing lost, shortening cangen's gap step by step. */
async function dropFreeRate(receiver) {
  let best = null;
  for (const gapMs of GAPS_MS) {
    const n = sweepFrames(gapMs);
    const r = await receiver(n, gapMs);
    const rate = Math.round(n / r.floodSeconds);
    if (r.received < n) return { ...best, firstLoss: { gapMs, offeredRate: rate, lost: n - r.received } };
    best = { gapMs, offeredRate: rate };
  }
  return { ...best, atLeast: true };
}

const missing = await available();
const receivers = {
  canwireBatch: canwire("batch"),
  canwirePerMessage: canwire("message"),
  // what canwire log / canwire dump use: read at most every millisecond under load
  canwireBatchCoalesce1ms: canwire("batch", { rxCoalesceUs: 1000 }),
  canwirePerMessageCoalesce1ms: canwire("message", { rxCoalesceUs: 1000 }),
  candump,
  ...(missing.nodeCan ? {} : { nodeCan }),
  ...(missing.pythonCan ? {} : { pythonCan }),
};

await canwire("batch")(frames, "0"); // warm-up on a full flood
const cpu = {};
const dropFree = {};
for (const [name, receiver] of Object.entries(receivers)) {
  cpu[name] = await cpuFigure(receiver);
  dropFree[name] = await dropFreeRate(receiver);
  console.error(
    `bench: ${name}: ${cpu[name].cpuMicrosPerFrame.toFixed(2)} µs/frame, drop-free ${dropFree[name].offeredRate ?? 0} frames/s`,
  );
}
cpu.canwireBatchKernelDefaultBuffer = await cpuFigure(canwire("batch", { receiveBufferSize: 0 }));

const ratio = (a, b) => (a === undefined || b === undefined ? undefined : Number((a / b).toFixed(3)));
const base = cpu.candump.cpuMicrosPerFrame;
const result = {
  benchmark: "socketcan-rx",
  frames,
  note: "cangen floods vcan0 in a TCG qemu guest; compare ratios only. Each receiver with its defaults (canwire: 4 MiB receive buffer).",
  missing,
  cpu,
  dropFree,
  ratios: {
    batchCpuVsCandump: ratio(cpu.canwireBatch.cpuMicrosPerFrame, base),
    perMessageCpuVsCandump: ratio(cpu.canwirePerMessage.cpuMicrosPerFrame, base),
    nodeCanCpuVsCandump: ratio(cpu.nodeCan?.cpuMicrosPerFrame, base),
    pythonCanCpuVsCandump: ratio(cpu.pythonCan?.cpuMicrosPerFrame, base),
    batchCpuVsNodeCan: ratio(cpu.canwireBatch.cpuMicrosPerFrame, cpu.nodeCan?.cpuMicrosPerFrame),
    perMessageCpuVsNodeCan: ratio(cpu.canwirePerMessage.cpuMicrosPerFrame, cpu.nodeCan?.cpuMicrosPerFrame),
    batchCpuVsPythonCan: ratio(cpu.canwireBatch.cpuMicrosPerFrame, cpu.pythonCan?.cpuMicrosPerFrame),
    coalescedBatchCpuVsNodeCan: ratio(cpu.canwireBatchCoalesce1ms.cpuMicrosPerFrame, cpu.nodeCan?.cpuMicrosPerFrame),
    coalescedBatchCpuVsPythonCan: ratio(cpu.canwireBatchCoalesce1ms.cpuMicrosPerFrame, cpu.pythonCan?.cpuMicrosPerFrame),
    coalescedPerMessageCpuVsNodeCan: ratio(cpu.canwirePerMessageCoalesce1ms.cpuMicrosPerFrame, cpu.nodeCan?.cpuMicrosPerFrame),
    coalescedBatchDropFreeRateVsCandump: ratio(dropFree.canwireBatchCoalesce1ms.offeredRate, dropFree.candump.offeredRate),
    batchDropFreeRateVsCandump: ratio(dropFree.canwireBatch.offeredRate, dropFree.candump.offeredRate),
    perMessageDropFreeRateVsCandump: ratio(dropFree.canwirePerMessage.offeredRate, dropFree.candump.offeredRate),
  },
  targets: {
    "drop-free rate >= 0.5x candump": "ratios.batchDropFreeRateVsCandump >= 0.5",
    "CPU per frame <= 1/5 of node-can": "ratios.batchCpuVsNodeCan <= 0.2",
    "CPU per frame <= 1/10 of python-can": "ratios.batchCpuVsPythonCan <= 0.1",
  },
};
console.log(JSON.stringify(result, null, 2));
