// bench/remote-socketcand: frames/s through canwire's socketcand server over
// loopback, received by python-can 4.6's socketcand client and by canwire's
// client, and the server's CPU per frame with 10 clients on a saturated
// 1 Mbit/s bus (9 000 frames/s), against a same-run baseline without clients.
//
//   node bench/remote-socketcand/run.mjs [SECONDS=3]
//
// Targets (issue 14): the server keeps up with 9 000 frames/s for 10 clients
// at under 20 % of one core; canwire's client >= 5x python-can's frames/s.
// Build the release addon first (npm run build); python-can 4.6 comes from
// target/py-peers (scripts/python-peers.sh).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const seconds = Number(process.argv[2] ?? 3);
const here = fileURLToPath(new URL(".", import.meta.url));
const python = fileURLToPath(new URL("../../target/py-peers/bin/python", import.meta.url));

function start(command, args) {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", command === python ? "ignore" : "inherit"] }); // python-can logs every split element
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { child, next: async () => JSON.parse((await lines.next()).value) };
}

const server = start(process.execPath, [`${here}server.mjs`]);
const { port } = await server.next();
const load = async (rate) => {
  server.child.stdin.write(`${JSON.stringify({ rate, seconds })}\n`);
  return server.next();
};

/** One receiver process against flat-out traffic: its frames/s. */
async function throughput(command, args) {
  const client = start(command, args);
  await client.next(); // ready
  const generated = await load(0);
  const { counts } = await client.next();
  const [c] = counts;
  return {
    received: c.received,
    framesPerSecond: c.received / seconds,
    offered: generated.sent / seconds,
    droppedFrames: generated.droppedFrames,
  };
}

const results = {};
results.canwireClient = await throughput(process.execPath, [`${here}canwire_client.mjs`, String(port), "1", String(seconds + 5)]);
results.pythonCan = existsSync(python)
  ? await throughput(python, [`${here}python_can_client.py`, String(port), String(seconds + 5)])
  : { error: "python-can 4.6 venv missing: scripts/python-peers.sh" };

// CPU of the server process at 9 000 frames/s: without clients (the generator
// and the hub alone), then with 10 canwire clients.
const baseline = await load(9000);
const clients = start(process.execPath, [`${here}canwire_client.mjs`, String(port), "10", String(seconds + 5)]);
await clients.next();
const loaded = await load(9000);
const { counts } = await clients.next();
const delivered = counts.reduce((sum, c) => sum + c.received, 0);
const corePercent = (r) => (100 * r.cpuS) / r.wallS;
results.server10Clients = {
  offeredFramesPerSecond: loaded.sent / seconds,
  clientsReceivedPerClient: counts.map((c) => c.received),
  droppedFrames: loaded.droppedFrames,
  serverProcessCorePercent: corePercent(loaded),
  baselineCorePercent: corePercent(baseline),
  socketcandServingCorePercent: corePercent(loaded) - corePercent(baseline),
  cpuMicrosPerDeliveredFrame: ((loaded.cpuS - baseline.cpuS) * 1e6) / delivered,
};
if (results.pythonCan.framesPerSecond) {
  results.canwireVsPythonCan = results.canwireClient.framesPerSecond / results.pythonCan.framesPerSecond;
}
server.child.stdin.write(`${JSON.stringify({ quit: true })}\n`);
console.log(JSON.stringify(results, null, 2));
