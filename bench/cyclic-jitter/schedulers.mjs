// The senders of bench/cyclic-jitter: canwire's task schedulers, Node's
// setInterval, the native reference loop, and the event-loop load. Task t
// sends 8-byte frames with id BASE_ID + t; data bytes 0..4 carry the slot
// marker the analysis reads (see analysis.mjs).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Message } from "../../dist/index.js";
import { FULL_RING } from "./analysis.mjs";

/** Id of task 0. */
export const BASE_ID = 0x100;
/** Messages per canwire task: the round-robin index is the slot modulo this. */
export const CANWIRE_RING = 64;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function markedData(marker) {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setUint32(0, marker >>> 0, true);
  return data;
}

/**
 * canwire's `bus.sendPeriodic` with `scheduler` ("native" or "kernel"): each
 * task sends CANWIRE_RING messages round robin, for `durationMs`.
 * @returns {Promise<{ ring: number, unwrapByTime: boolean, stats: object } | { skipped: string }>}
 */
export async function runCanwire(bus, scheduler, { periodMs, tasks, durationMs }) {
  const created = [];
  try {
    for (let t = 0; t < tasks; t++) {
      const messages = Array.from({ length: CANWIRE_RING }, (_, i) => new Message({ id: BASE_ID + t, data: markedData(i) }));
      created.push(bus.sendPeriodic(messages, { periodMs, durationMs, scheduler }));
    }
  } catch (error) {
    for (const task of created) task.remove();
    return { skipped: `${error.code ?? "error"}: ${error.message}` };
  }
  await sleep(durationMs + 100);
  const stats = { missed: 0, sendErrors: 0, sent: 0, lastError: null };
  for (const task of created) {
    const s = task.stats();
    stats.missed += s.missed;
    stats.sendErrors += s.sendErrors;
    stats.sent += s.sent;
    stats.lastError ??= s.lastError;
    task.remove();
  }
  // The native scheduler skips slots it is a period late for; BCM sends one message per expiry.
  return { ring: CANWIRE_RING, unwrapByTime: scheduler === "native", stats };
}

/**
 * Node's setInterval, one timer per task, each call one `bus.send` of the
 * task's next frame (its slot number as marker), for `durationMs`.
 */
export async function runSetInterval(bus, { periodMs, tasks, durationMs }) {
  const stats = { sent: 0, sendErrors: 0, lastError: null };
  const end = performance.now() + durationMs;
  const timers = [];
  for (let t = 0; t < tasks; t++) {
    const id = BASE_ID + t;
    let slot = 0;
    timers.push(
      setInterval(() => {
        if (performance.now() >= end) return;
        bus.send({ id, data: markedData(slot++) }, { timeoutMs: 0 }).then(
          () => stats.sent++,
          (error) => {
            stats.sendErrors++;
            stats.lastError = error.message;
          },
        );
      }, periodMs),
    );
  }
  await sleep(durationMs + 100);
  for (const timer of timers) clearInterval(timer);
  return { ring: FULL_RING, stats };
}

/** Path of the reference loop's binary (cargo build --release -p canwire-bus --example deadline_loop). */
export const REFERENCE_BINARY = new URL("../../target/release/examples/deadline_loop", import.meta.url).pathname;

/**
 * The native reference loop (crates/canwire-bus/examples/deadline_loop.rs)
 * in a child process: it sends and receives on its own buses and hands back
 * what it received.
 * @returns {Promise<{ ring: number, stats: object, rx: object } | { skipped: string }>}
 */
export async function runReference({ interface: iface, channel, periodMs, tasks, durationMs }) {
  if (!existsSync(REFERENCE_BINARY)) {
    return { skipped: `no ${REFERENCE_BINARY}: cargo build --release -p canwire-bus --example deadline_loop` };
  }
  const out = join(tmpdir(), `deadline-loop-${process.pid}.bin`);
  const args = ["--interface", iface, "--channel", channel, "--period-us", String(Math.round(periodMs * 1000))];
  args.push("--tasks", String(tasks), "--duration-ms", String(durationMs), "--out", out);
  const child = spawn(REFERENCE_BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
  const code = await new Promise((r) => child.on("close", r));
  if (code !== 0) return { skipped: `reference loop failed (${code}): ${stderr.trim()}` };
  const bytes = readFileSync(out);
  rmSync(out, { force: true });
  const count = bytes.byteLength / 16;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rx = { ids: new Uint32Array(count), t: new Float64Array(count), marker: new Uint32Array(count), count, dropped: 0 };
  const baseLo = count ? view.getUint32(0, true) : 0;
  const baseHi = count ? view.getUint32(4, true) : 0;
  for (let k = 0; k < count; k++) {
    rx.t[k] = (view.getUint32(k * 16 + 4, true) - baseHi) * 4_294_967_296 + (view.getUint32(k * 16, true) - baseLo);
    rx.ids[k] = view.getUint32(k * 16 + 8, true);
    rx.marker[k] = view.getUint32(k * 16 + 12, true);
  }
  const stats = JSON.parse(stdout.trim());
  rx.dropped = stats.rxDropped;
  return { ring: FULL_RING, stats, rx };
}

/**
 * Blocks the main event loop `blockMs` every `everyMs` (a busy-wait in a
 * setInterval); returns the function that stops it.
 */
export function blockEventLoop(blockMs = 5, everyMs = 50) {
  const timer = setInterval(() => {
    const until = performance.now() + blockMs;
    while (performance.now() < until);
  }, everyMs);
  return () => clearInterval(timer);
}
