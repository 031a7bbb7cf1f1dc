// node-can's receiver (npm `socketcan`, installed by prepare.mjs), the Node
// baseline of bench/socketcan-rx.
//
//   NODE_CAN_DIR=target/bench-node-can node node_can_rx.mjs CHANNEL
//
// Prints "ready" once the channel is started, then receives until stdin
// closes; each line on stdin is answered with the frames received so far.
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

const require = createRequire(`${resolve(process.env.NODE_CAN_DIR ?? "target/bench-node-can", "node_modules")}/`);
const can = require("socketcan");
const [channelName] = process.argv.slice(2);

const channel = can.createRawChannel(channelName, true);
let received = 0;
channel.addListener("onMessage", (msg) => {
  if (msg.data.length !== 8) throw new Error("bad frame");
  received++;
});
channel.start();
createInterface({ input: process.stdin })
  .on("line", () => console.log(JSON.stringify({ received })))
  .on("close", () => {
    channel.stop();
    process.exit(0);
  });
console.log("ready");
