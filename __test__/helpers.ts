import { Bus, type BusOptions } from "../src/index.js";

let counter = 0;

/** A channel name no other test uses. */
export function uniqueChannel(prefix = "t"): string {
  return `${prefix}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Opens a sender and a receiver on a fresh virtual channel. */
export async function pair(options: BusOptions = {}): Promise<{ tx: Bus; rx: Bus; channel: string }> {
  const channel = uniqueChannel();
  const tx = await Bus.open({ ...options, channel });
  const rx = await Bus.open({ ...options, channel });
  return { tx, rx, channel };
}

/** Receives exactly n messages or fails after timeoutMs. */
export async function recvN(bus: Bus, n: number, timeoutMs = 2000) {
  const out = [];
  while (out.length < n) {
    const m = await bus.recv({ timeoutMs });
    if (!m) throw new Error(`timed out after ${out.length} of ${n} messages`);
    out.push(m);
  }
  return out;
}
