// The three stacks bench/isotp compares, each measured the same way: a
// sender and a receiver of one kind face each other on a channel (STmin 0,
// block size 0) and move one payload at a time; bytes/s is payload bytes
// over the time of the transfers after a 256-byte warm-up.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Bus, IsoTp } from "../../dist/index.js";

export function payload(size) {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff);
}

function linkParams(fd) {
  return fd ? { canFd: true, txDataLength: 64, bitrateSwitch: true } : {};
}

/**
 * Opens a sender/receiver pair of canwire's userspace stack or the kernel's
 * can-isotp (through canwire's kernel-socket stack, frame_txtime 0). The
 * userspace stacks get buses with a 4 MiB receive buffer: unshaped vcan has
 * no wire rate, so a burst at STmin 0 outruns a default-sized socket buffer
 * (208 KiB, about 250 frames) in the slow guest, which then drops frames
 * (counted in rxDroppedKernel).
 */
export async function pair(stack, channel, fd, receiverParams = {}) {
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

export async function transfer(p, data) {
  const [, got] = await Promise.all([p.sender.send(data), p.receiver.recv({ timeoutMs: 15_000 })]);
  if (!got || Buffer.compare(Buffer.from(got), Buffer.from(data)) !== 0) {
    const errors = p.receiver.takeErrors().map((e) => e.code);
    const drops = p.buses.map((b) => b.stats().rxDroppedKernel);
    throw new Error(
      `a ${data.length}-byte payload ${got ? "came back wrong" : "never arrived"} (receiver errors ${errors}, kernel drops ${drops})`,
    );
  }
}

/** One measurement of canwire's userspace or the kernel stack: { bytesPerSecond, transfers, seconds } or { error }. */
export async function measureCanwire(stack, { channel, size, fd, seconds }) {
  const p = await pair(stack, channel, fd);
  try {
    const data = payload(size);
    await transfer(p, data.subarray(0, 256));
    let transfers = 0;
    let elapsed;
    const started = performance.now();
    do {
      await transfer(p, data);
      transfers++;
      elapsed = (performance.now() - started) / 1000;
    } while (elapsed < seconds);
    return { bytesPerSecond: (transfers * size) / elapsed, transfers, seconds: elapsed };
  } catch (error) {
    return { error: error.message };
  } finally {
    await p.close();
  }
}

/**
 * python-can-isotp (can-isotp 2.0.7 on python-can 4.6.1) in the project's
 * peer venv `target/py-peers` (node scripts/python-peers.mjs), one process
 * kept up for the whole run and given cases one line at a time.
 */
export function startPythonCanIsoTp() {
  const python = fileURLToPath(new URL("../../target/py-peers/bin/python", import.meta.url));
  if (!existsSync(python)) {
    const missing = { error: "target/py-peers is missing: run `node scripts/python-peers.mjs` on the host" };
    return { measure: async () => missing, close() {} };
  }
  const script = fileURLToPath(new URL("./python_can_isotp.py", import.meta.url));
  const child = spawn(python, [script], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async measure({ channel, size, fd, seconds }) {
      child.stdin.write(`${JSON.stringify({ channel, size, fd, seconds })}\n`);
      const { value, done } = await lines.next();
      return done ? { error: `python exited (${child.exitCode})` } : JSON.parse(value);
    },
    close() {
      child.stdin.end();
    },
  };
}
