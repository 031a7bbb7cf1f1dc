// canwire's receiver for bench/socketcan-rx, a process of its own like every
// other receiver, kept open for all the offered rates of a round.
//
//   node canwire_rx.mjs CHANNEL batch|message [BUS_OPTIONS_JSON]
//
// Prints "ready" once the bus is open, then receives until stdin closes:
// `batch` iterates `bus.batches()` and reads every record's id, `message`
// iterates `for await (const msg of bus)` (both with the default options
// unless BUS_OPTIONS_JSON says otherwise). Each line on stdin is answered
// with one JSON line: the frames received so far and the bus's drop counters.
// The bench measures this process's CPU time from outside (/proc), the same
// way for every receiver.
import { createInterface } from "node:readline";
import { Bus } from "../../dist/index.js";

const [channel, mode, optionsJson] = process.argv.slice(2);
const bus = await Bus.open({ interface: "socketcan", channel, ...JSON.parse(optionsJson ?? "{}") });
let received = 0;

createInterface({ input: process.stdin })
  .on("line", () => {
    const stats = bus.stats();
    console.log(
      JSON.stringify({
        received,
        droppedKernel: stats.rxDroppedKernel,
        droppedQueueFull: stats.rxDroppedQueueFull,
        coalescingWaits: stats.rxCoalescingWaits,
      }),
    );
  })
  .on("close", () => void bus.close());

console.log("ready");
if (mode === "batch") {
  for await (const batch of bus.batches()) {
    for (let i = 0; i < batch.length; i++) if (batch.id(i) > 0x7ff) throw new Error("bad frame");
    received += batch.length;
  }
} else {
  for await (const m of bus) {
    if (m.data.length !== 8) throw new Error("bad frame");
    received++;
  }
}
