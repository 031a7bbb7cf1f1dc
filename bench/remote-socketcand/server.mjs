// The server side of bench/remote-socketcand, in its own process so its CPU
// is measured alone: serves the virtual channel "bench" as "vcan0" and, on
// command (one JSON line on stdin), generates traffic on the channel from a
// second bus, then answers with its CPU use and the server's counters.
//
//   {"rate": 9000, "seconds": 3}    paced: rate frames/s in 10 ms steps
//   {"rate": 0, "seconds": 3}       flat out
import { createInterface } from "node:readline";
import { Bus, encodeMessages, Message, serveSocketcand } from "../../dist/index.js";

const channel = `bench-${process.pid}`;
const exported = await Bus.open({ channel });
const generator = await Bus.open({ channel });
const server = await serveSocketcand({ vcan0: exported }, { port: 0, maxClients: 64, outputQueueSize: 8192 });
console.log(JSON.stringify({ port: server.address.port }));

const chunk = 90;
const records = encodeMessages(
  Array.from({ length: chunk }, (_, i) => new Message({ id: 0x100 + i, data: [i, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88] })),
);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function generate(rate, seconds) {
  const end = performance.now() + seconds * 1000;
  let sent = 0;
  if (rate === 0) {
    while (performance.now() < end) {
      sent += await generator.sendBatch(records);
      if (sent % (chunk * 20) === 0) await new Promise((r) => setImmediate(r));
    }
    return sent;
  }
  const perStep = rate / 100;
  const t0 = performance.now();
  for (let step = 0; performance.now() < end; step++) {
    const due = Math.round((step + 1) * perStep) - Math.round(step * perStep);
    sent += await generator.sendBatch(records.subarray(0, due * (records.length / chunk)));
    const next = t0 + (step + 1) * 10;
    await sleep(Math.max(0, next - performance.now()));
  }
  return sent;
}

for await (const line of createInterface({ input: process.stdin })) {
  const { rate, seconds, quit } = JSON.parse(line);
  if (quit) break;
  const before = server.stats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = await generate(rate, seconds);
  await sleep(300); // let the queues drain
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = server.stats();
  console.log(
    JSON.stringify({
      sent,
      wallS,
      cpuS: (cpu.user + cpu.system) / 1e6,
      droppedFrames: after.droppedFrames - before.droppedFrames,
      clients: after.clients,
    }),
  );
}
await server.close();
await generator.close();
await exported.close();
