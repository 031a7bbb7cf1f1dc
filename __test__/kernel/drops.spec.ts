import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Bus } from "../../src/index.js";
import { cangen, cansend, hasAfCan } from "./can-utils.js";

const FLOOD = 20_000;

describe.skipIf(!hasAfCan)("socketcan: a flood is counted, never lost silently", () => {
  it("tiny kernel buffer and queue: every frame is received or counted as dropped", async () => {
    await using bus = await Bus.open({
      interface: "socketcan",
      channel: "vcan0",
      receiveBufferSize: 1, // the kernel rounds up to its minimum
      rxQueueSize: 16,
    });
    // cangen -g 0: no gap; -I i: incrementing ids; -L 8: fixed length
    await cangen("vcan0", ["-g", "0", "-n", String(FLOOD), "-I", "i", "-L", "8", "-D", "i"]);
    // the kernel's drop counter is read at stats() time (SO_MEMINFO), not only with the next frame
    let stats = bus.stats();
    for (let i = 0; i < 50 && stats.rxFrames + stats.rxDroppedKernel < FLOOD; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stats = bus.stats();
    }
    expect(stats.rxFrames + stats.rxDroppedKernel).toBe(FLOOD);
    await cansend("vcan0", "7FF#EE");
    stats = bus.stats();
    for (let i = 0; i < 50 && stats.rxFrames + stats.rxDroppedKernel < FLOOD + 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stats = bus.stats();
    }
    console.log(
      `flood of ${FLOOD}: rxFrames ${stats.rxFrames}, rxDroppedKernel ${stats.rxDroppedKernel}, rxDroppedQueueFull ${stats.rxDroppedQueueFull}`,
    );
    expect(stats.rxFrames + stats.rxDroppedKernel).toBe(FLOOD + 1);
    expect(stats.rxDroppedQueueFull).toBe(stats.rxFrames - 16);
    expect(stats.readers[0]!.queued).toBe(16);
    expect(stats.rxDroppedKernel + stats.rxDroppedQueueFull).toBeGreaterThan(0);
    const first = await bus.recv({ timeoutMs: 100 });
    expect(first?.dlc).toBe(8);
  });
});

describe.skipIf(!hasAfCan)("socketcan: the receive buffer", () => {
  const info = async (options: { receiveBufferSize?: number }) => {
    await using bus = await Bus.open({ interface: "socketcan", channel: "vcan0", ...options });
    return bus.channelInfo;
  };
  const kernelDefault = () => readFileSync("/proc/sys/net/core/rmem_default", "utf8").trim();

  it("defaults to 4 MiB (the kernel reports twice the size asked for), 0 keeps the kernel's default", async () => {
    // the guest runs as root, so SO_RCVBUFFORCE passes rmem_max
    expect(await info({})).toBe(`SocketCAN raw socket on 'vcan0', receive buffer ${2 * 4 * 1024 * 1024} bytes`);
    expect(await info({ receiveBufferSize: 65536 })).toBe("SocketCAN raw socket on 'vcan0', receive buffer 131072 bytes");
    expect(await info({ receiveBufferSize: 0 })).toBe(`SocketCAN raw socket on 'vcan0', receive buffer ${kernelDefault()} bytes`);
  });
});
