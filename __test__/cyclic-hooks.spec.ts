import { describe, expect, it } from "vitest";
import { type CanError, formatFrame } from "../src/index.js";
import { pair, recvN } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `ready()` holds; fails after `timeoutMs`. */
async function until(ready: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

describe("sendPeriodic modifier and onError on the native scheduler", () => {
  it("a modifier sets each next frame; a late answer repeats the previous content, counted", async () => {
    const { tx, rx } = await pair();
    const indexes: number[] = [];
    const task = tx.sendPeriodic(
      { id: 0x10, data: [0] },
      {
        periodMs: 20,
        count: 10,
        modifier: (m, index) => {
          indexes.push(index);
          return Uint8Array.of(m.data[0]! + 1);
        },
      },
    );
    const data = (await recvN(rx, 10)).map((m) => m.data[0]!);
    await sleep(30);
    const stats = task.stats();
    expect(data[0]).toBe(0);
    // Each step is +1, or a repeat when the answer came late; repeats are exactly the late turns.
    const steps = data.slice(1).map((d, i) => d - data[i]!);
    expect(steps.every((s) => s === 0 || s === 1)).toBe(true);
    expect(steps.filter((s) => s === 0)).toHaveLength(stats.lateModifier);
    expect(stats).toMatchObject({ sent: 10, modifierErrors: 0, running: false });
    // Asked after each send that found no open question, with its send number.
    expect(indexes[0]).toBe(0);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    await tx.close();
    await rx.close();
  });

  it("whole messages, 'keep' answers, and round-robin positions each modified for their own next turn", async () => {
    const { tx, rx } = await pair();
    const task = tx.sendPeriodic(
      [
        { id: 0x20, data: [0] },
        { id: 0x21, data: [100] },
      ],
      {
        periodMs: 25,
        count: 6,
        modifier: (m) => (m.id === 0x20 ? { id: 0x20, data: [m.data[0]! + 1, 0xee] } : undefined),
      },
    );
    const got = (await recvN(rx, 6)).map(formatFrame);
    const late = task.stats().lateModifier;
    expect(got.filter((f) => f.startsWith("021#"))).toEqual(["021#64", "021#64", "021#64"]);
    const first = got.filter((f) => f.startsWith("020#"));
    expect(first[0]).toBe("020#00");
    if (late === 0) expect(first).toEqual(["020#00", "020#01EE", "020#02EE"]);
    await tx.close();
    await rx.close();
  });

  it("a slow modifier never delays frames: they keep their period while it is late", async () => {
    const { tx, rx } = await pair({ rxQueueSize: 10_000 });
    const task = tx.sendPeriodic(
      { id: 0x30, data: [0] },
      {
        periodMs: 5,
        modifier: (m) => {
          const until = Date.now() + 40;
          while (Date.now() < until) {
            // a modifier hogging the event loop
          }
          return Uint8Array.of(m.data[0]! + 1);
        },
      },
    );
    await sleep(300);
    task.stop();
    const stats = task.stats();
    const got: number[] = [];
    for (let m = await rx.recv({ timeoutMs: 0 }); m; m = await rx.recv({ timeoutMs: 0 })) got.push(m.data[0]!);
    // ~60 slots in 300 ms while the modifier answered at most every 40 ms.
    expect(got.length).toBeGreaterThan(30);
    expect(stats.lateModifier).toBeGreaterThan(got.length / 2);
    expect(got.at(-1)).toBeGreaterThan(0);
    expect(got.at(-1)!).toBeLessThan(got.length / 4);
    await tx.close();
    await rx.close();
  });

  it("invalid answers and exceptions go to onError and modifierErrors; the content stays", async () => {
    const { tx, rx } = await pair();
    const errors: CanError[] = [];
    let calls = 0;
    const task = tx.sendPeriodic(
      { id: 0x40, data: [1] },
      {
        periodMs: 20,
        count: 12,
        onError: (e) => errors.push(e),
        modifier: () => {
          calls++;
          if (calls === 1) return new Uint8Array(9); // too long for a classic frame
          throw new Error("boom");
        },
      },
    );
    const got = (await recvN(rx, 12)).map(formatFrame);
    // twelve slots give a loaded event loop room to answer the modifier at
    // least twice (it is asked again only once its answer is in).
    // onError is a second hop through the event loop after the error is
    // counted; wait for the deliveries themselves, not for a fixed time (a
    // starved process runs an expired timer before pending callbacks).
    await until(() => !task.stats().running && errors.length >= 2 && errors.length === task.stats().modifierErrors, 15_000);
    expect(got).toEqual(Array(12).fill("040#01"));
    expect(errors.map((e) => e.code)).toEqual(["ERR_DATA_TOO_LONG", ...Array(errors.length - 1).fill("ERR_INVALID_ARGUMENT")]);
    expect(errors[1]?.message).toBe("the modifier threw: boom");
    expect(task.stats()).toMatchObject({ modifierErrors: errors.length, sendErrors: 0, sent: 12 });
    expect(task.stats().lastError).toMatch(/^ERR_INVALID_ARGUMENT: the modifier threw: boom/);
    await tx.close();
    await rx.close();
  }, 30_000);

  it("rejects what is not a function, and modifiers on the kernel scheduler", async () => {
    const { tx, rx } = await pair();
    expect(() => tx.sendPeriodic({ id: 1 }, { periodMs: 10, onError: 5 as never })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: "onError must be a function" }),
    );
    expect(() => tx.sendPeriodic({ id: 1 }, { periodMs: 10, modifier: {} as never })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    await tx.close();
    await rx.close();
  });
});
