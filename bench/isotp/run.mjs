// bench/isotp: ISO-TP throughput and STmin accuracy in the qemu guest
// (npm run bench:isotp), canwire's userspace stack against the kernel's
// can-isotp (through canwire's kernel-socket stack, frame_txtime 0) and
// python-can-isotp, all in the same run.
//
//   npm run build && npm run bench:isotp
//   scripts/socketcan-vm.sh -- node bench/isotp/run.mjs [BUDGET_SECONDS]
//
// Throughput: a sender and a receiver of the same kind face each other on
// vcan0 (STmin 0, block size 0) and move 4095-byte and 64 KiB payloads, one
// at a time, for BUDGET seconds (default 2) per case and stack, classic CAN
// and CAN FD (TX_DL 64). 64 KiB needs the 32-bit FF_DL escape on both sides.
// canwire and the kernel alternate in four slots per case so that load
// drifts on the shared machine hit both alike.
//
// STmin accuracy: a receiver asks for STmin 1 ms and 0xF5 (500 µs); a raw
// SocketCAN bus records the kernel's receive timestamps (ns) of the sender's
// consecutive frames; the figures are the gap error (gap - STmin) at p50 and
// p99 and the number of gaps shorter than STmin (must be 0).
//
// python-can-isotp is installed by bench/isotp/install-python.sh into
// target/bench-py (not a project dependency) and runs on Debian's python3-can.
// TCG emulation is slow: compare the ratios, not the absolute figures.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Bus, IsoTp } from "../../dist/index.js";

const budgetSeconds = Number(process.argv[2] ?? 2);
const channel = "vcan0";
const run = promisify(execFile);
const SIZES = [4095, 65536];

function payload(size) {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff);
}

function linkParams(fd) {
  return fd ? { canFd: true, txDataLength: 64 } : {};
}

/**
 * Opens a sender/receiver pair of one stack kind. The userspace stacks get
 * buses with a 4 MiB receive buffer: vcan has no wire rate, so a burst at
 * STmin 0 outruns a default-sized socket buffer (208 KiB, about 250 frames)
 * in the slow guest, which then drops frames (counted in rxDroppedKernel).
 */
async function pair(stack, fd, receiverParams = {}) {
  const params = { stmin: 0, blocksize: 0, maxFrameSize: 70_000, blockingSend: true, ...linkParams(fd) };
  const buses = [];
  const open = async (txid, rxid, extra) => {
    const address = { txid, rxid };
    if (stack === "kernel") return IsoTp.open({ stack, channel, address, params: { ...params, ...extra }, kernel: { frameTxtimeNs: 0 } });
    const bus = await Bus.open({ interface: "socketcan", channel, fd, receiveBufferSize: 4 << 20 });
    buses.push(bus);
    return IsoTp.open({ bus, address, params: { ...params, ...extra } });
  };
  const sender = await open(0x6e0, 0x6e8, {});
  const receiver = await open(0x6e8, 0x6e0, receiverParams);
  const close = async () => {
    await sender.close();
    await receiver.close();
    for (const bus of buses) await bus.close();
  };
  return { sender, receiver, buses, close };
}

async function transfer(p, data) {
  const [, got] = await Promise.all([p.sender.send(data), p.receiver.recv({ timeoutMs: 20_000 })]);
  if (!got || Buffer.compare(Buffer.from(got), Buffer.from(data)) !== 0) {
    const errors = p.receiver.takeErrors().map((e) => e.code);
    const drops = p.buses.map((b) => b.stats().rxDroppedKernel);
    throw new Error(
      `a ${data.length}-byte payload ${got ? "came back wrong" : "never arrived"} (receiver errors ${errors}, kernel drops ${drops})`,
    );
  }
}

/** Transfers for `seconds` (after one warm-up); adds to `total`. */
async function throughput(stack, size, fd, seconds, total) {
  const p = await pair(stack, fd);
  try {
    const data = payload(size);
    await transfer(p, data); // warm-up
    let transfers = 0;
    let elapsed;
    const started = performance.now();
    do {
      await transfer(p, data);
      transfers++;
      elapsed = (performance.now() - started) / 1000;
    } while (elapsed < seconds);
    total.transfers += transfers;
    total.seconds += elapsed;
    total.bytesPerSecond = (total.transfers * size) / total.seconds;
  } catch (error) {
    total.error = error.message;
  } finally {
    await p.close();
  }
}

function caseName(size, fd) {
  return `${size === 65536 ? "64KiB" : size}-${fd ? "fd" : "classic"}`;
}

async function pythonCanIsoTp(c) {
  const target = fileURLToPath(new URL("../../target/bench-py", import.meta.url));
  if (!existsSync(`${target}/isotp`)) return { error: "python-can-isotp not installed: run bench/isotp/install-python.sh on the host" };
  const script = fileURLToPath(new URL("./python_can_isotp.py", import.meta.url));
  try {
    const { stdout } = await run("/usr/bin/python3", [script, channel, JSON.stringify([c])], {
      env: { ...process.env, PYTHONPATH: target },
      timeout: 900_000,
      maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout.trim().split("\n").at(-1))[c.name];
  } catch (error) {
    return { error: `python3 ${script} failed: ${String(error.stderr || error.message).slice(-600)}` };
  }
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Gaps between the sender's consecutive frames, from kernel receive timestamps. */
async function stminAccuracy(stack, stmin, stminNs) {
  const observer = await Bus.open({ interface: "socketcan", channel });
  const p = await pair(stack, false, { stmin });
  try {
    const size = 4095; // FF + 585 CFs, block size 0: 584 gaps
    await transfer(p, payload(size));
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
      gaps: errorsUs.length,
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

const cases = [];
for (const fd of [false, true]) for (const size of SIZES) cases.push({ name: caseName(size, fd), size, fd, budgetSeconds });

const result = {
  benchmark: "isotp",
  note: "vcan0 in a TCG qemu guest, STmin 0, block size 0, one payload at a time; compare ratios, not absolute figures",
  budgetSecondsPerCase: budgetSeconds,
  throughput: { canwireUserspace: {}, kernel: {}, pythonCanIsoTp: {} },
  stmin: {},
};
// The machine is shared and its load drifts: canwire and the kernel take
// turns in ROUNDS slots per case, python-can-isotp runs right after them.
const ROUNDS = 4;
for (const c of cases) {
  const ours = { transfers: 0, seconds: 0 };
  const kernel = { transfers: 0, seconds: 0 };
  result.throughput.canwireUserspace[c.name] = ours;
  result.throughput.kernel[c.name] = kernel;
  for (let round = 0; round < ROUNDS; round++) {
    await throughput("userspace", c.size, c.fd, budgetSeconds / ROUNDS, ours);
    await throughput("kernel", c.size, c.fd, budgetSeconds / ROUNDS, kernel);
  }
  result.throughput.pythonCanIsoTp[c.name] = await pythonCanIsoTp(c);
}
for (const [name, stmin, ns] of [
  ["1ms", 1, 1_000_000],
  ["500us", 0xf5, 500_000],
]) {
  result.stmin[name] = {
    canwireUserspace: await stminAccuracy("userspace", stmin, ns),
    kernel: await stminAccuracy("kernel", stmin, ns),
  };
}

const ratio = (a, b) => (a?.bytesPerSecond && b?.bytesPerSecond ? a.bytesPerSecond / b.bytesPerSecond : null);
result.ratios = {};
for (const c of cases) {
  const ours = result.throughput.canwireUserspace[c.name];
  result.ratios[c.name] = {
    oursVsKernel: ratio(ours, result.throughput.kernel[c.name]),
    oursVsPythonCanIsoTp: ratio(ours, result.throughput.pythonCanIsoTp[c.name]),
  };
}
result.targets = { oursVsKernel: ">= 0.8", oursVsPythonCanIsoTp: ">= 5", gapsShorterThanStmin: 0 };
console.log(JSON.stringify(result, null, 2));
