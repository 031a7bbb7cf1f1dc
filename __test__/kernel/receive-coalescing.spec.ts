/**
 * The receive thread's adaptive coalescing (`rxCoalesceUs`, default 4 ms):
 * sparse frames are read one by one as they come, sustained traffic is read
 * in batches with nothing lost, and a bus with a userspace ISO-TP stack reads
 * every frame at once. Asserted on frames and counters
 * (`rxCoalescingWaits`: the times the thread let frames gather), never on times.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Bus, IsoTp } from "../../src/index.js";
import { cangen, cansend, hasAfCan, recvN } from "./can-utils.js";

/** Receives exactly `n` frames as batches; their ids in order. */
async function receiveIds(bus: Bus, n: number): Promise<number[]> {
  const ids: number[] = [];
  while (ids.length < n) {
    const batch = await bus.recvBatch({ timeoutMs: 10_000 });
    if (!batch) throw new Error(`received ${ids.length} of ${n} frames`);
    for (let i = 0; i < batch.length; i++) ids.push(batch.id(i));
  }
  return ids;
}

/** cangen's ids with -I i: counting up from 0, wrapping after 0x7ff. */
const counting = (n: number) => Array.from({ length: n }, (_, i) => i % 0x800);

describe.skipIf(!hasAfCan)("socketcan: adaptive receive coalescing", () => {
  it("reads sparse frames at once: no wait, each frame as it comes", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0", rxCoalesceUs: 1000 });
    const got: string[] = [];
    for (const frame of ["101#01", "102#0202", "103#030303"]) {
      await cansend("vcan0", frame);
      const [m] = await recvN(bus, 1);
      got.push(`${m!.id.toString(16)}#${Buffer.from(m!.data).toString("hex")}`);
      await sleep(20); // a quiet spell far longer than the 1 ms bound
    }
    expect(got).toEqual(["101#01", "102#0202", "103#030303"]);
    expect(bus.stats()).toMatchObject({ rxFrames: 3, rxCoalescingWaits: 0, rxDroppedKernel: 0 });
  });

  it("batches a burst, loses nothing, and reads the first frame after the burst's quiet at once", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const BURST = 3000; // below what the 4 MiB receive buffer holds: no stall can drop frames
    await cangen("vcan0", ["-g", "0", "-n", String(BURST), "-I", "i", "-L", "8", "-D", "i"]);
    expect(await receiveIds(bus, BURST)).toEqual(counting(BURST));
    await sleep(50); // quiet: longer than the 4 ms bound (and the last wait has ended)
    const afterBurst = bus.stats();
    expect(afterBurst).toMatchObject({ rxFrames: BURST, rxDroppedKernel: 0, rxDroppedQueueFull: 0 });
    // batches: far fewer waits (each followed by one read) than frames
    expect(afterBurst.rxCoalescingWaits).toBeGreaterThan(0);
    expect(afterBurst.rxCoalescingWaits).toBeLessThan(BURST / 4);

    await cansend("vcan0", "7FF#EE");
    const [m] = await recvN(bus, 1);
    expect([m!.id, Buffer.from(m!.data).toString("hex")]).toEqual([0x7ff, "ee"]);
    // read as sparse traffic: the thread did not wait before or after it
    expect(bus.stats()).toMatchObject({ rxFrames: BURST + 1, rxCoalescingWaits: afterBurst.rxCoalescingWaits });
  });

  it("rxCoalesceUs 0 reads every frame at once, also in a burst", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0", rxCoalesceUs: 0 });
    await cangen("vcan0", ["-g", "0", "-n", "1000", "-I", "i", "-L", "8", "-D", "i"]);
    expect(await receiveIds(bus, 1000)).toEqual(counting(1000));
    expect(bus.stats()).toMatchObject({ rxFrames: 1000, rxCoalescingWaits: 0, rxDroppedKernel: 0 });
  });

  it("a userspace ISO-TP stack on the bus turns coalescing off until it closes", async () => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    const burst = async () => {
      await cangen("vcan0", ["-g", "0", "-n", "1000", "-I", "123", "-L", "8", "-D", "i"]);
      expect((await receiveIds(bus, 1000)).every((id) => id === 0x123)).toBe(true);
    };
    const tp = await IsoTp.open({ bus, address: { rxid: 0x7e8, txid: 0x7e0 } });
    await burst();
    expect(bus.stats()).toMatchObject({ rxFrames: 1000, rxCoalescingWaits: 0 });
    await tp.close();
    await burst();
    expect(bus.stats().rxFrames).toBe(2000);
    expect(bus.stats().rxCoalescingWaits).toBeGreaterThan(0);
  });
});
