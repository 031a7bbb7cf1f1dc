import { describe, expect, it } from "vitest";
import type { MessageInit } from "../src/index.js";
import { pair } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BUSY_MS = 40;
const RUN_MS = 300;

/**
 * Runs `messages` every 5 ms for ~RUN_MS with a modifier that hogs the event
 * loop BUSY_MS per call; gives how late a 50 ms timer armed at the start
 * fired, how long the run took, and how often the modifier was called.
 */
async function busyRun(messages: MessageInit[]): Promise<{ timerLateMs: number; elapsedMs: number; calls: number; lateModifier: number }> {
  const { tx, rx } = await pair({ rxQueueSize: 10_000 });
  let calls = 0;
  const started = Date.now();
  const task = tx.sendPeriodic(messages, {
    periodMs: 5,
    modifier: (m) => {
      calls++;
      const until = Date.now() + BUSY_MS;
      while (Date.now() < until) {
        // a modifier hogging the event loop
      }
      return Uint8Array.of(m.data[0]! + 1);
    },
  });
  const timerLateMs = await new Promise<number>((resolve) => {
    const due = Date.now() + 50;
    setTimeout(() => resolve(Date.now() - due), 50);
  });
  await sleep(RUN_MS - 50);
  task.stop();
  const elapsedMs = Date.now() - started;
  const callsWhileRunning = calls;
  const { lateModifier } = task.stats();
  await tx.close();
  await rx.close();
  return { timerLateMs, elapsedMs, calls: callsWhileRunning, lateModifier };
}

describe("a slow modifier costs lateModifier counts, never the event loop", () => {
  // Before: each answer found the next question already queued, and Node's
  // threadsafe-function dispatch ran up to ~1000 of them back to back (40 s).
  it("one message: timers still run on time and the modifier is asked at most once per answer", { timeout: 120_000 }, async () => {
    for (let run = 0; run < 8; run++) {
      const r = await busyRun([{ id: 0x50, data: [0] }]);
      expect(r.timerLateMs, `run ${run}: the 50 ms timer fired late`).toBeLessThan(1000);
      expect(r.elapsedMs, `run ${run}`).toBeLessThan(RUN_MS + 1000);
      expect(r.calls, `run ${run}`).toBeGreaterThan(0);
      expect(r.calls, `run ${run}: modifier calls`).toBeLessThanOrEqual(Math.ceil(r.elapsedMs / BUSY_MS) + 2);
      expect(r.lateModifier, `run ${run}`).toBeGreaterThan(0);
    }
  });

  it("several messages: one question per task at a time, so answers never queue the next one", { timeout: 120_000 }, async () => {
    for (let run = 0; run < 3; run++) {
      const r = await busyRun([
        { id: 0x51, data: [0] },
        { id: 0x52, data: [100] },
      ]);
      expect(r.timerLateMs, `run ${run}: the 50 ms timer fired late`).toBeLessThan(1000);
      expect(r.elapsedMs, `run ${run}`).toBeLessThan(RUN_MS + 1000);
      expect(r.calls, `run ${run}: modifier calls`).toBeLessThanOrEqual(Math.ceil(r.elapsedMs / BUSY_MS) + 2);
      expect(r.lateModifier, `run ${run}`).toBeGreaterThan(0);
    }
  });
});
