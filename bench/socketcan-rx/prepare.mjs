// Host-side set-up of bench/socketcan-rx (the guest sees the host's files):
// - builds the paced sender (paced_send.c) into target/bench-socketcan-rx;
// - installs the npm package `socketcan` (node-can, the incumbent Node
//   library) into target/bench-node-can, the Node baseline. It is a benchmark
//   baseline, not a dependency of canwire. node-gyp builds it against this
//   Node's headers (npm's nodedir, or node-gyp's download).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const target = (path) => fileURLToPath(new URL(`../../target/${path}`, import.meta.url));

mkdirSync(target("bench-socketcan-rx"), { recursive: true });
execFileSync(
  "cc",
  ["-O2", "-Wall", "-o", target("bench-socketcan-rx/paced_send"), fileURLToPath(new URL("paced_send.c", import.meta.url))],
  {
    stdio: "inherit",
  },
);

const dir = target("bench-node-can");
const addon = `${dir}/node_modules/socketcan/build/Release/can.node`;
if (existsSync(addon)) {
  console.error(`bench: node-can found in ${dir}`);
} else {
  mkdirSync(dir, { recursive: true });
  console.error(`bench: installing node-can (npm socketcan@4.3) into ${dir}`);
  try {
    execFileSync("npm", ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--foreground-scripts", "socketcan@4.3"], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  } catch (error) {
    console.error(`bench: node-can could not be installed (${error.message}); its row will say so`);
  }
}
