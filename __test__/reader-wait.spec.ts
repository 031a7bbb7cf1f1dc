import { afterEach, describe, expect, it, vi } from "vitest";
import { binding } from "../src/binding.js";
import { encodeMessages, Message, RECORD_SIZE } from "../src/index.js";
import { armedWaits } from "../src/waker.js";
import { pair, uniqueChannel } from "./helpers.js";

const openOptions = (channel: string) => ({ interface: "virtual", channel, fd: false });

describe("NativeReader.readIntoOrArm: the frames queued, or a wake-up armed, in one call", () => {
  it("arms when empty (0), wakes the token when a frame comes, then writes the frames into the pool; -1 once closed and drained", async () => {
    const channel = uniqueChannel();
    const tx = binding.NativeBus.open(openOptions(channel));
    const rx = binding.NativeBus.open(openOptions(channel));
    const reader = rx.addReader(16);
    const woken: number[] = [];
    const waker = new binding.NativeWaker((token: number) => woken.push(token));
    const pool = new Uint8Array(4 * RECORD_SIZE).fill(0xee);
    try {
      expect(reader.readIntoOrArm(pool, RECORD_SIZE, 16, waker, 7, false)).toBe(0);
      expect(tx.send(encodeMessages([{ id: 0x321, data: [9, 8] }]), 0)).toBe(1);
      await vi.waitFor(() => expect(woken).toEqual([7]), { timeout: 2000, interval: 1 });
      expect(reader.readIntoOrArm(pool, RECORD_SIZE, 16, waker, 8, false)).toBe(1);
      const view = new DataView(pool.buffer);
      const at = RECORD_SIZE;
      expect([view.getUint32(at + 8, true), pool[at + 16], pool[at + 24], pool[at + 25], pool[at + 26]]).toEqual([0x321, 2, 9, 8, 0]);
      expect([pool[at - 1], pool[at + RECORD_SIZE]]).toEqual([0xee, 0xee]);

      // three frames queued with room for two: two now, the third next; then
      // closed: false with nothing armed
      tx.send(encodeMessages([{ id: 1 }, { id: 2 }, { id: 3 }]), 0);
      reader.close();
      expect(reader.readIntoOrArm(pool, 2 * RECORD_SIZE, 16, waker, 9, false)).toBe(2);
      expect([view.getUint32(2 * RECORD_SIZE + 8, true), view.getUint32(3 * RECORD_SIZE + 8, true)]).toEqual([1, 2]);
      expect(reader.tryReadInto(pool, 0, 16)).toBe(1);
      expect(view.getUint32(8, true)).toBe(3);
      expect(reader.readIntoOrArm(pool, 0, 16, waker, 10, false)).toBe(-1);
      expect(reader.tryReadInto(pool, 0, 16)).toBe(0);
      await new Promise((r) => setTimeout(r, 10));
      expect(woken).toEqual([7]);
    } finally {
      tx.close();
      rx.close();
    }
  });

  it("rejects a pool without room for one record with ERR_INVALID_ARGUMENT", () => {
    const channel = uniqueChannel();
    const rx = binding.NativeBus.open(openOptions(channel));
    const reader = rx.addReader(16);
    try {
      const error = (() => {
        try {
          reader.tryReadInto(new Uint8Array(2 * RECORD_SIZE), RECORD_SIZE + 1, 16);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error?.message).toContain("ERR_INVALID_ARGUMENT");
      expect(error?.message).toContain("a 176-byte pool at offset 89");
    } finally {
      rx.close();
    }
  });
});

describe("a reader's wait", () => {
  afterEach(() => vi.restoreAllMocks());

  it("costs one native call to find the queue empty and arm (keep-alive on included), one to let Node exit at the wake, and one to take the frames", async () => {
    const { tx, rx } = await pair();
    try {
      const readOrArm = vi.spyOn(binding.NativeReader.prototype, "readIntoOrArm");
      const tryRead = vi.spyOn(binding.NativeReader.prototype, "tryReadInto");
      const keepAlive = vi.spyOn(binding.NativeWaker.prototype, "keepAlive");
      const pending = rx.recv({ timeoutMs: 2000 });
      expect(readOrArm).toHaveBeenCalledTimes(1);
      expect(readOrArm.mock.lastCall?.[5]).toBe(true); // the arm turns the keep-alive on itself
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

  it("with no time to wait takes what is queued without arming", async () => {
    const { tx, rx } = await pair();
    try {
      const readOrArm = vi.spyOn(binding.NativeReader.prototype, "readIntoOrArm");
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

describe("a reader's batches, written into a shared pool", () => {
  it("keep their frames after later reads, across new pools, each no larger than a pool", async () => {
    const { tx, rx } = await pair({ rxQueueSize: 10_000 });
    try {
      const kept = [];
      const sent = 4000; // more than two 128 KiB pools of 88-byte records
      for (let start = 0; start < sent; start += 500) {
        await tx.sendBatch(Array.from({ length: 500 }, (_, i) => ({ id: start + i, extended: true, data: [(start + i) & 0xff] })));
        for (let b = await rx.recvBatch({ timeoutMs: 2000, max: 300 }); b; b = await rx.recvBatch({ timeoutMs: 0, max: 4096 })) {
          kept.push(b);
        }
      }
      const ids = kept.flatMap((b) => Array.from({ length: b.length }, (_, i) => b.id(i)));
      expect(ids).toEqual(Array.from({ length: sent }, (_, i) => i));
      const data = kept.flatMap((b) => Array.from({ length: b.length }, (_, i) => b.data(i)[0]));
      expect(data).toEqual(Array.from({ length: sent }, (_, i) => i & 0xff));
      expect(Math.max(...kept.map((b) => b.length))).toBeLessThanOrEqual((128 * 1024) / RECORD_SIZE);
      expect(new Set(kept.map((b) => b.buffer.buffer)).size).toBeGreaterThan(1);
      // Buffers, as before the pool: a message's data is a view, not a copy per frame
      expect(kept.every((b) => Buffer.isBuffer(b.buffer) && Buffer.isBuffer(b.message(0).data))).toBe(true);
    } finally {
      await tx.close();
      await rx.close();
    }
  });
});
