import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { Bus } from "../src/index.js";
import { recvN, uniqueChannel } from "./helpers.js";

const run = promisify(execFile);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function once(worker: Worker, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (m === message) {
        worker.off("message", onMessage);
        resolve();
      }
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
  });
}

describe("process-wide virtual bus", () => {
  it("buses in two worker threads and the main thread share a channel", async () => {
    const channel = uniqueChannel("w");
    const a = new Worker(fixture("worker-peer.mjs"), { workerData: { channel } });
    await once(a, "ready");
    const bus = await Bus.open({ channel });
    await bus.send({ id: 0x100, data: [0xca, 0xfe] });
    const [echo] = await recvN(bus, 1, 5000);
    expect([echo!.id, Array.from(echo!.data)]).toEqual([0x101, [0xca, 0xfe]]);

    const b = new Worker(fixture("worker-peer.mjs"), { workerData: { channel } });
    await once(b, "ready");
    await bus.send({ id: 0x200, data: [1] });
    const replies = await recvN(bus, 2, 5000);
    expect(replies.map((m) => m.id)).toEqual([0x201, 0x201]);
    // each worker also sees the other's reply and answers it: drain those
    const doneA = once(a, "done");
    const doneB = once(b, "done");
    await bus.send({ id: 0x7ff });
    await Promise.all([doneA, doneB]);
    await a.terminate();
    await b.terminate();
    await bus.close();
  });
});

describe("process lifetime", () => {
  it("an open bus that nobody reads does not keep Node alive", async () => {
    const { stdout } = await run(process.execPath, [fixture("idle-bus.mjs")], { timeout: 10_000 });
    expect(stdout.trim()).toBe("sent");
  });

  it("a pending recv ends with ERR_CLOSED when the bus closes, and the process exits", async () => {
    const { stdout } = await run(process.execPath, [fixture("idle-bus.mjs"), "pending-recv"], { timeout: 10_000 });
    expect(stdout.trim()).toBe("ERR_CLOSED");
  });
});
