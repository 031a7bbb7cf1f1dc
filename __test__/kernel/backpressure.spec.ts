/**
 * A full transmit queue, end to end: vcan never fills, so vcan2 gets a token
 * bucket qdisc (tc ... tbf) that holds a few frames and refuses the rest with
 * ENOBUFS, as a busy CAN controller's queue does.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, type Message, TxBufferFullError } from "../../src/index.js";
import { skipWithout } from "../prerequisites.js";
import { hasAfCan } from "./can-utils.js";

const IFACE = "vcan2";
const hasTc = (() => {
  try {
    execFileSync("tc", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
// Only where SocketCAN is here: on a host without it the whole file skips anyway.
const skipWithoutTc = hasAfCan && skipWithout("tc (iproute2)", hasTc, "install iproute2 on the host; the guest uses the host's tc");

/** Frames leave at `framesPerSecond` (a classic frame is 16 bytes to the qdisc); 10 wait, more are refused. */
function shape(framesPerSecond: number): void {
  const bytesPerSecond = framesPerSecond * 16;
  execFileSync("tc", ["qdisc", "replace", "dev", IFACE, "root", "tbf", "rate", `${bytesPerSecond * 8}bit`, "burst", "160", "limit", "160"]);
}

const frames = (n: number): Message[] =>
  Array.from({ length: n }, (_, i) => ({ id: i & 0x7ff, data: [i >> 8, i & 0xff] }) as unknown as Message);

/** Receives on IFACE until `count` frames or 2 s of silence; returns their indexes in arrival order. */
async function receiveIndexes(bus: Bus, count: number): Promise<number[]> {
  const seen: number[] = [];
  while (seen.length < count) {
    const batch = await bus.recvBatch({ max: 4096, timeoutMs: 2000 });
    if (!batch) break;
    for (const m of batch) seen.push((m.data[0]! << 8) | m.data[1]!);
  }
  return seen;
}

const sentIn = (error: unknown): number => Number(/(\d+) frame\(s\) (of this call )?were sent/.exec((error as Error).message)?.[1]);

describe.skipIf(!hasAfCan || skipWithoutTc)("socketcan: a full transmit queue waits, times out and flushes", () => {
  beforeAll(() => shape(2000));
  afterAll(() => execFileSync("tc", ["qdisc", "del", "dev", IFACE, "root"]));

  it("sendBatch waits for room on ENOBUFS and sends everything, in order", async () => {
    await using rx = await Bus.open({ interface: "socketcan", channel: IFACE });
    await using tx = await Bus.open({ interface: "socketcan", channel: IFACE });
    const received = receiveIndexes(rx, 600);
    expect(await tx.sendBatch(frames(600), { timeoutMs: 10_000 })).toBe(600);
    expect(await received).toEqual(Array.from({ length: 600 }, (_, i) => i));
    const stats = tx.stats();
    expect(stats.txFrames).toBe(600);
    expect(stats.txWaits).toBeGreaterThan(0); // the queue did fill
    expect(stats.txErrors).toBe(0);
  });

  it("a send that finds no room within timeoutMs fails with ENOBUFS and says how many frames went", async () => {
    shape(50);
    await using rx = await Bus.open({ interface: "socketcan", channel: IFACE });
    await using tx = await Bus.open({ interface: "socketcan", channel: IFACE });
    const error = await tx.sendBatch(frames(2000), { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TxBufferFullError);
    expect(error).toMatchObject({ code: "ERR_TX_BUFFER_FULL", errno: "ENOBUFS" });
    expect((error as Error).message).toMatch(
      /^the transmit queue of 'vcan2' stayed full \(ENOBUFS\) for \d+ ms; \d+ frame\(s\) of this call were sent$/,
    );
    const sent = sentIn(error);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(2000);
    // the frames the kernel took all reach the wire, nothing more
    expect(await receiveIndexes(rx, 2000)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(tx.stats()).toMatchObject({ txFrames: sent, txErrors: 1 });
  });

  it("flushTxBuffer ends a waiting send at once", async () => {
    shape(50);
    await using rx = await Bus.open({ interface: "socketcan", channel: IFACE });
    await using tx = await Bus.open({ interface: "socketcan", channel: IFACE });
    const start = performance.now();
    const pending = tx.sendBatch(frames(2000), { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    await tx.flushTxBuffer();
    const error = await pending;
    expect(performance.now() - start).toBeLessThan(5000);
    expect(error).toBeInstanceOf(TxBufferFullError);
    expect((error as Error).message).toMatch(
      /^flushTxBuffer\(\) discarded the rest of this send: the transmit queue of 'vcan2' stayed full \(ENOBUFS\)/,
    );
    const sent = sentIn(error);
    expect(await receiveIndexes(rx, 2000)).toEqual(Array.from({ length: sent }, (_, i) => i));
  });
});
