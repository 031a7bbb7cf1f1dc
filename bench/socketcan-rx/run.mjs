// bench/socketcan-rx: receiving a `cangen -g 0` flood on vcan0, in the qemu
// guest (npm run bench:socketcan), by canwire's batch path and per-message
// iterator against candump (and Debian's python3-can when installed) on the
// same flood in the same run.
//
//   scripts/socketcan-vm.sh -- node bench/socketcan-rx/run.mjs [FRAMES]
//
// cangen sets the pace, so every receiver sees about the same frame rate; the
// figures that differ are CPU time per received frame and how many frames each
// receiver lost (kernel drops; with the kernel's default receive buffer a
// slower receiver loses frames, see batch4MiBReceiveBuffer). Prints JSON with
// the ratios to candump. Use a release build (npm run build).
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Bus } from "../../dist/index.js";

const frames = Number(process.argv[2] ?? 200_000);
const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function flood() {
  const t0 = performance.now();
  await run("cangen", ["vcan0", "-g", "0", "-n", String(frames), "-L", "8", "-I", "i", "-D", "i"]);
  return (performance.now() - t0) / 1000;
}

/** Runs a canwire receive loop in this process while cangen floods. */
async function canwire(kind, options = {}) {
  const bus = await Bus.open({ interface: "socketcan", channel: "vcan0", ...options });
  let received = 0;
  let idle = false;
  const loop = (async () => {
    if (kind === "batch") {
      for (;;) {
        const batch = await bus.recvBatch({ max: 4096, timeoutMs: 2000 });
        if (!batch) break;
        for (let i = 0; i < batch.length; i++) if (batch.id(i) > 0x7ff) throw new Error("bad frame");
        received += batch.length;
        if (received >= frames) break;
      }
    } else {
      for (;;) {
        const m = await bus.recv({ timeoutMs: 2000 });
        if (!m) break;
        if (m.data.length !== 8) throw new Error("bad frame");
        if (++received >= frames) break;
      }
    }
    idle = true;
  })();
  await sleep(200);
  const cpu0 = process.cpuUsage();
  const seconds = await flood();
  await loop;
  const cpu = process.cpuUsage(cpu0);
  const stats = bus.stats();
  await bus.close();
  if (!idle) throw new Error("loop did not finish");
  return {
    received,
    droppedKernel: stats.rxDroppedKernel,
    droppedQueueFull: stats.rxDroppedQueueFull,
    floodSeconds: seconds,
    cpuMicrosPerFrame: (cpu.user + cpu.system) / Math.max(1, received),
  };
}

function procCpuSeconds(pid) {
  // utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks (100/s)
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs a receiver process while cangen floods; it reports what it received. */
async function external(command, args, parse, ready) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  let cpu = 0;
  child.stdout.setEncoding("utf8").on("data", (d) => (out += d));
  const poller = setInterval(() => {
    try {
      cpu = procCpuSeconds(child.pid);
    } catch {}
  }, 50);
  const closed = new Promise((r) => child.on("close", r));
  if (ready) while (!out.includes("ready")) await sleep(50);
  else await sleep(500);
  const seconds = await flood();
  await closed;
  clearInterval(poller);
  const result = parse(out, cpu);
  return { ...result, floodSeconds: seconds, cpuMicrosPerFrame: (result.cpuSeconds * 1e6) / Math.max(1, result.received) };
}

const candump = () =>
  external(
    "sh",
    ["-c", `timeout 120 candump -L -n ${frames} -T 3000 vcan0 > /tmp/candump.out; echo; times`],
    (out) => {
      const lines = readFileSync("/tmp/candump.out", "utf8").split("\n").filter(Boolean).length;
      // `times` prints the shell's then its children's user and system time: "0m1.23s 0m0.45s"
      const child = out.trim().split("\n").at(-1).match(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/);
      const cpuSeconds = child ? Number(child[1]) * 60 + Number(child[2]) + Number(child[3]) * 60 + Number(child[4]) : NaN;
      return { received: lines, cpuSeconds };
    },
    false,
  );

async function pythonCan() {
  try {
    await run("/usr/bin/python3", ["-c", "import can"]);
  } catch {
    return { error: "python3-can not installed (apt-get install python3-can)" };
  }
  const script = fileURLToPath(new URL("./python_can_rx.py", import.meta.url));
  return external("/usr/bin/python3", [script, "vcan0", String(frames)], (out) => JSON.parse(out.trim().split("\n").at(-1)), true);
}

await canwire("batch"); // warm-up on a full flood
const result = {
  benchmark: "socketcan-rx",
  frames,
  note: "cangen -g 0 on vcan0 in a TCG qemu guest; cangen sets the pace, compare CPU per frame and drops",
  canwire: {
    batch: await canwire("batch"),
    perMessage: await canwire("message"),
    batch4MiBReceiveBuffer: await canwire("batch", { receiveBufferSize: 4 << 20 }),
  },
  candump: await candump(),
  pythonCan: await pythonCan(),
  npmSocketcan: { error: "not measured: the npm socketcan package needs a node-gyp build; not installed here" },
};
const base = result.candump.cpuMicrosPerFrame;
result.ratios = {
  batchCpuVsCandump: result.canwire.batch.cpuMicrosPerFrame / base,
  perMessageCpuVsCandump: result.canwire.perMessage.cpuMicrosPerFrame / base,
  ...(result.pythonCan.error ? {} : { pythonCanCpuVsCandump: result.pythonCan.cpuMicrosPerFrame / base }),
};
console.log(JSON.stringify(result, null, 2));
