import { afterEach, describe, expect, it, vi } from "vitest";
import { binding } from "../src/binding.js";
import { encodeMessages, Message, RECORD_SIZE } from "../src/index.js";
import { armedWaits } from "../src/waker.js";
import { pair, uniqueChannel } from "./helpers.js";

const openOptions = (channel: string) => ({ interface: "virtual", channel, fd: false });

describe("NativeReader.readOrArm: the frames queued, or a wake-up armed, in one call", () => {
  it("arms when empty, wakes the token when a frame comes, then hands the frames over; false once closed and drained", async () => {
    const channel = uniqueChannel();
    const tx = binding.NativeBus.open(openOptions(channel));
    const rx = binding.NativeBus.open(openOptions(channel));
    const reader = rx.addReader(16);
    const woken: number[] = [];
    const waker = new binding.NativeWaker((token: number) => woken.push(token));
    try {
      expect(reader.readOrArm(16, waker, 7, false)).toBe(true);
      expect(tx.send(encodeMessages([{ id: 0x321, data: [9, 8] }]), 0)).toBe(1);
      await vi.waitFor(() => expect(woken).toEqual([7]), { timeout: 2000, interval: 1 });
      const batch = reader.readOrArm(16, waker, 8, false);
      expect(batch).toBeInstanceOf(Uint8Array);
      const records = batch as Uint8Array;
      expect(records.byteLength).toBe(RECORD_SIZE);
      const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
      expect([view.getUint32(8, true), records[16], records[24], records[25]]).toEqual([0x321, 2, 9, 8]);

      // one frame queued, then closed: the frame first, then false with nothing armed
      tx.send(encodeMessages([{ id: 1 }]), 0);
      reader.close();
      expect((reader.readOrArm(16, waker, 9, false) as Uint8Array).byteLength).toBe(RECORD_SIZE);
      expect(reader.readOrArm(16, waker, 10, false)).toBe(false);
      await new Promise((r) => setTimeout(r, 10));
      expect(woken).toEqual([7]);
    } finally {
      tx.close();
      rx.close();
    }
  });
});

describe("a reader's wait", () => {
  afterEach(() => vi.restoreAllMocks());

  it("costs one native call to find the queue empty and arm (keep-alive on included), one to let Node exit at the wake, and one to take the frames", async () => {
    const { tx, rx } = await pair();
    try {
      const readOrArm = vi.spyOn(binding.NativeReader.prototype, "readOrArm");
      const tryRead = vi.spyOn(binding.NativeReader.prototype, "tryRead");
      const keepAlive = vi.spyOn(binding.NativeWaker.prototype, "keepAlive");
      const pending = rx.recv({ timeoutMs: 2000 });
      expect(readOrArm).toHaveBeenCalledTimes(1);
      expect(readOrArm.mock.lastCall?.[3]).toBe(true); // the arm turns the keep-alive on itself
      expect(keepAlive).not.toHaveBeenCalled();
      expect(armedWaits()).toBe(1);
      await tx.send(new Message({ id: 0x55, data: [1] }));
      const got = await pending;
      expect([got?.id, Array.from(got?.data ?? [])]).toEqual([0x55, [1]]);
      expect(readOrArm).toHaveBeenCalledTimes(2);
      expect(tryRead).not.toHaveBeenCalled();
      expect(keepAlive.mock.calls).toEqual([[false]]);
      expect(armedWaits()).toBe(0);
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  it("an iterator takes queued batches one native call each, arming nothing until the queue is empty", async () => {
    const { tx, rx } = await pair();
    try {
      await tx.sendBatch([{ id: 1 }, { id: 2 }, { id: 3 }]);
      await vi.waitFor(() => expect(rx.stats().readers[0]?.queued).toBe(3), { timeout: 2000, interval: 1 });
      const readOrArm = vi.spyOn(binding.NativeReader.prototype, "readOrArm");
      const keepAlive = vi.spyOn(binding.NativeWaker.prototype, "keepAlive");
      const ids: number[] = [];
      for await (const batch of rx.batches({ max: 1 })) {
        ids.push(batch.id(0));
        expect(armedWaits()).toBe(0);
        if (ids.length === 3) break;
      }
      expect(ids).toEqual([1, 2, 3]);
      expect(readOrArm).toHaveBeenCalledTimes(3);
      expect(keepAlive).not.toHaveBeenCalled();
    } finally {
      await tx.close();
      await rx.close();
    }
  });

  it("with no time to wait takes what is queued without arming", async () => {
    const { tx, rx } = await pair();
    try {
      const readOrArm = vi.spyOn(binding.NativeReader.prototype, "readOrArm");
      expect(await rx.recvBatch({ timeoutMs: 0 })).toBeNull();
      await tx.send({ id: 3 });
      const batch = await rx.recvBatch({ timeoutMs: 0 });
      expect([batch?.length, batch?.id(0)]).toEqual([1, 3]);
      expect(readOrArm).not.toHaveBeenCalled();
      expect(armedWaits()).toBe(0);
    } finally {
      await tx.close();
      await rx.close();
    }
  });
});
