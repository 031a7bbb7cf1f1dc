// canwire's socketcand client for bench/remote-socketcand: CONNECTIONS buses
// on the server, each counting what it receives until SECONDS of quiet after
// the first frame or the deadline; prints one JSON line.
//
//   node canwire_client.mjs PORT CONNECTIONS DEADLINE_S
import { Bus } from "../../dist/index.js";

const [port, connections, deadlineS] = process.argv.slice(2).map(Number);
const buses = [];
for (let i = 0; i < connections; i++) buses.push(await Bus.open({ interface: "socketcand", channel: "vcan0", port }));
console.log(JSON.stringify({ ready: true }));
const end = performance.now() + deadlineS * 1000;
const counts = await Promise.all(
  buses.map(async (bus) => {
    let received = 0;
    let first;
    let last;
    while (performance.now() < end) {
      const batch = await bus.recvBatch({ max: 4096, timeoutMs: first === undefined ? end - performance.now() : 500 });
      if (!batch) {
        if (first !== undefined) break;
        continue;
      }
      first ??= performance.now();
      last = performance.now();
      received += batch.length;
    }
    return { received, seconds: first === undefined ? 0 : (last - first) / 1000 };
  }),
);
console.log(JSON.stringify({ counts }));
await Promise.all(buses.map((b) => b.close()));
