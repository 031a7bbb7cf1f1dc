// canwire's receive loop for bench/socketcan-rx, in its own process like
// every other receiver (the bench process spawns cangen, and a fork's
// copy-on-write faults would otherwise land on canwire's CPU time).
//
//   node canwire_rx.mjs CHANNEL FRAMES batch|message [BUS_OPTIONS_JSON]
//
// Prints "ready" once the bus is open, then JSON with the frames received
// (until FRAMES or 2 s of silence), the CPU time spent after "ready" and the
// bus's drop counters.
import { Bus } from "../../dist/index.js";

const [channel, framesArg, mode, optionsJson] = process.argv.slice(2);
const frames = Number(framesArg);
const cpuSeconds = () => {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1e6;
};

const bus = await Bus.open({ interface: "socketcan", channel, ...JSON.parse(optionsJson ?? "{}") });
let received = 0;
const cpuAtReady = cpuSeconds();
console.log("ready");
if (mode === "batch") {
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
const cpu = cpuSeconds() - cpuAtReady;
const stats = bus.stats();
await bus.close();
console.log(
  JSON.stringify({ received, cpuSeconds: cpu, droppedKernel: stats.rxDroppedKernel, droppedQueueFull: stats.rxDroppedQueueFull }),
);
