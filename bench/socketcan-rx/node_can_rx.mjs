// node-can's receive loop (npm `socketcan`, installed by prepare.mjs), the
// Node baseline of bench/socketcan-rx.
//
//   NODE_CAN_DIR=target/bench-node-can node node_can_rx.mjs CHANNEL FRAMES
//
// Prints "ready" once the channel is started, then JSON with the frames
// received (until FRAMES or 2 s of silence) and the CPU time spent after "ready".
import { createRequire } from "node:module";
import { resolve } from "node:path";

const require = createRequire(`${resolve(process.env.NODE_CAN_DIR ?? "target/bench-node-can", "node_modules")}/`);
const can = require("socketcan");
const [channelName, framesArg] = process.argv.slice(2);
const frames = Number(framesArg);

const cpuSeconds = () => {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1e6;
};

const channel = can.createRawChannel(channelName, true);
let received = 0;
channel.addListener("onMessage", (msg) => {
  if (msg.data.length !== 8) throw new Error("bad frame");
  if (++received === frames) finish();
});
channel.start();
const cpuAtReady = cpuSeconds();
console.log("ready");

let last = -1;
let quiet = 0;
const watchdog = setInterval(() => {
  if (received === last && received > 0) quiet += 250;
  else quiet = 0;
  last = received;
  if (quiet >= 2000) finish();
}, 250);

function finish() {
  clearInterval(watchdog);
  const cpu = cpuSeconds() - cpuAtReady;
  channel.stop();
  console.log(JSON.stringify({ received, cpuSeconds: cpu }));
  process.exit(0);
}
