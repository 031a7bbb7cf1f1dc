/**
 * `canwire demo`: a real job on the in-process virtual bus. An ECU-like
 * sender emits cyclic traffic; three readers consume it at once (messages
 * through `for await`, batches, and a deliberately slow reader with a small
 * queue whose overflow is counted); rates and drops are printed, and every
 * frame is accounted for as received or counted as dropped.
 *
 * @module
 * @internal
 */
import { statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";
import { Bus } from "../bus.js";
import { IsoTp } from "../isotp.js";
import { LogReader, LogWriter } from "../logfile.js";
import { Message } from "../message.js";
import type { BusReader } from "../reader.js";
import { integer, parse } from "./args.js";

export const demoUsage = `usage: canwire demo [-n FRAMES] [--json]

Runs a job on the in-process virtual bus: a sender emits FRAMES frames of
20 cyclic ids (rolling counters), three readers consume them at once (one
logs to a BLF file in the temp folder, read back afterwards), and rates and
drop counts are printed; then two ISO-TP stacks exchange 4095 bytes each way,
and a cyclic task (bus.sendPeriodic on the native scheduler) sends a 10 ms
heartbeat of two messages 50 times. Exits 1 if any frame is unaccounted for,
a payload differs or a heartbeat is missing or out of order.

  -n, --frames FRAMES   frames to send (default 500000)
      --json            print the figures as JSON
  -h, --help            show this help`;

const IDS = 20;
const BATCH = 500;

/** Cyclic traffic: id 0x100+k carries a rolling counter and a fixed signature. */
function cyclicTraffic(start: number, n: number): Message[] {
  const out = new Array<Message>(n);
  for (let i = 0; i < n; i++) {
    const seq = start + i;
    const k = seq % IDS;
    const counter = Math.floor(seq / IDS);
    out[i] = new Message({
      id: 0x100 + k,
      data: [counter & 0xff, (counter >> 8) & 0xff, k, 0x11, 0x22, 0x33, 0x44, 0x55],
    });
  }
  return out;
}

interface ReaderFigures {
  received: number;
  dropped: number;
  seconds: number;
}

async function consumeMessages(reader: Bus, total: number): Promise<ReaderFigures> {
  const t0 = performance.now();
  let received = 0;
  let lastCounter = new Int32Array(IDS).fill(-1);
  let outOfOrder = 0;
  for await (const msg of reader) {
    const k = msg.id - 0x100;
    const counter = (msg.data[0] ?? 0) | ((msg.data[1] ?? 0) << 8);
    if (counter !== ((lastCounter[k] ?? -1) + 1) % 65536) outOfOrder++;
    lastCounter[k] = counter;
    if (++received === total) break;
  }
  lastCounter = new Int32Array(0);
  if (outOfOrder > 0) throw new Error(`${outOfOrder} frames out of order`);
  return { received, dropped: reader.stats().readers[0]?.overflow ?? 0, seconds: (performance.now() - t0) / 1000 };
}

/** Logs every batch to a BLF file, as a logger would. */
async function consumeBatches(reader: BusReader, total: number, blfPath: string): Promise<ReaderFigures> {
  const t0 = performance.now();
  let received = 0;
  const log = LogWriter.create(blfPath);
  try {
    for await (const batch of reader.batches()) {
      await log.write(batch);
      received += batch.length;
      if (received >= total) break;
    }
  } finally {
    await log.close();
  }
  return { received, dropped: 0, seconds: (performance.now() - t0) / 1000 };
}

async function framesIn(path: string): Promise<number> {
  let n = 0;
  for await (const batch of LogReader.open(path).batches(16_384)) n += batch.length;
  return n;
}

async function consumeSlowly(reader: BusReader, done: () => boolean): Promise<ReaderFigures> {
  const t0 = performance.now();
  let received = 0;
  while (!done()) {
    await sleep(20);
    for (let batch = await reader.recvBatch({ timeoutMs: 0 }); batch; batch = await reader.recvBatch({ timeoutMs: 0 })) {
      received += batch.length;
    }
  }
  const dropped = reader.stats().overflow;
  reader.close();
  return { received, dropped, seconds: (performance.now() - t0) / 1000 };
}

/** A heartbeat on the native cyclic scheduler: two messages round-robin every 10 ms. */
async function cyclicHeartbeat(
  channel: string,
): Promise<{ sent: number; received: number; inOrder: boolean; periodMs: number; meanGapMs: number; maxGapErrorMs: number }> {
  const COUNT = 50;
  const PERIOD_MS = 10;
  await using ecu = await Bus.open({ ignoreConfig: true, channel });
  await using tester = await Bus.open({ ignoreConfig: true, channel });
  const beats = [new Message({ id: 0x7a0, data: [0xaa, 0] }), new Message({ id: 0x7a1, data: [0xbb, 1] })];
  const task = ecu.sendPeriodic(beats, { periodMs: PERIOD_MS, count: COUNT });
  const got: Message[] = [];
  while (got.length < COUNT) {
    const m = await tester.recv({ timeoutMs: 2000 });
    if (!m) break;
    got.push(m);
  }
  // A frame can reach the tester before the scheduler thread has counted it: wait for the task to end.
  for (const until = performance.now() + 2000; task.running && performance.now() < until; ) await sleep(1);
  const sent = task.sent;
  task.remove();
  const gaps = got.slice(1).map((m, i) => Number(m.timestampNs - got[i]!.timestampNs) / 1e6);
  return {
    sent,
    received: got.length,
    inOrder: got.every((m, i) => m.id === beats[i % 2]!.id),
    periodMs: PERIOD_MS,
    meanGapMs: gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length),
    maxGapErrorMs: Math.max(0, ...gaps.map((g) => Math.abs(g - PERIOD_MS))),
  };
}

/** A diagnostic-style exchange: 4095 bytes each way between two ISO-TP stacks. */
async function isoTpExchange(channel: string): Promise<{ bytes: number; seconds: number; framesOnWire: number; ok: boolean }> {
  await using sniffer = await Bus.open({ ignoreConfig: true, channel, rxQueueSize: 10_000 });
  await using tester = await IsoTp.open({ channel, address: { txid: 0x7e0, rxid: 0x7e8 }, params: { blockingSend: true } });
  await using ecu = await IsoTp.open({
    channel,
    address: { txid: 0x7e8, rxid: 0x7e0 },
    params: { blockingSend: true, blocksize: 0, stmin: 0 },
  });
  const request = Uint8Array.from({ length: 4095 }, (_, i) => (i * 7) & 0xff);
  const t0 = performance.now();
  await tester.send(request);
  const got = await ecu.recv({ timeoutMs: 5000 });
  await ecu.send(got ?? new Uint8Array(0));
  const echoed = await tester.recv({ timeoutMs: 5000 });
  const seconds = (performance.now() - t0) / 1000;
  const ok = echoed !== null && Buffer.from(echoed).equals(Buffer.from(request));
  return { bytes: 2 * request.length, seconds, framesOnWire: sniffer.stats().rxFrames, ok };
}

/** Runs `canwire demo`. */
export async function demo(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { frames: { type: "string", short: "n" }, json: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
    false,
  );
  if (values.help) {
    console.log(demoUsage);
    return 0;
  }
  const total = integer("--frames", values.frames, 500_000);
  const channel = `demo-${process.pid}`;
  await using ecu = await Bus.open({ ignoreConfig: true, channel });
  await using logger = await Bus.open({ ignoreConfig: true, channel, rxQueueSize: 1 << 20 });
  const batchReader = logger.reader({ capacity: 1 << 20 });
  const blfPath = join(tmpdir(), `${channel}.blf`);
  const slowReader = logger.reader({ capacity: 1024 });

  let sending = true;
  let sendSeconds = 0;
  const sender = (async () => {
    const t0 = performance.now();
    for (let sent = 0; sent < total; sent += BATCH) {
      await ecu.sendBatch(cyclicTraffic(sent, Math.min(BATCH, total - sent)));
      await yieldToLoop();
    }
    sendSeconds = (performance.now() - t0) / 1000;
    sending = false;
  })();
  const [messages, batches, slow] = await Promise.all([
    consumeMessages(logger, total),
    consumeBatches(batchReader, total, blfPath),
    consumeSlowly(slowReader, () => !sending),
    sender,
  ]);
  const stats = logger.stats();
  const blf = { path: blfPath, frames: await framesIn(blfPath), bytes: statSync(blfPath).size };
  const accounted =
    messages.received === total && batches.received === total && slow.received + slow.dropped === total && blf.frames === total;
  const isoTp = await isoTpExchange(`${channel}-diag`);
  const cyclic = await cyclicHeartbeat(`${channel}-cyclic`);
  const cyclicOk = cyclic.sent === 50 && cyclic.received === 50 && cyclic.inOrder;

  const figures = {
    channel,
    frames: total,
    sender: { seconds: sendSeconds, framesPerSecond: total / sendSeconds },
    forAwaitReader: { ...messages, messagesPerSecond: messages.received / messages.seconds },
    batchReader: { ...batches, framesPerSecond: batches.received / batches.seconds },
    blf,
    slowReader: { ...slow, capacity: 1024 },
    bus: stats,
    accounted,
    isoTp,
    cyclic,
  };
  if (values.json) {
    console.log(JSON.stringify(figures, null, 2));
  } else {
    const rate = (n: number) => `${(n / 1e6).toFixed(2)} M/s`;
    console.log(`canwire demo: virtual channel '${channel}', ${total} frames of ${IDS} cyclic ids, 3 readers`);
    console.log(`  sender            ${total} frames in ${sendSeconds.toFixed(3)} s (${rate(figures.sender.framesPerSecond)})`);
    console.log(
      `  for-await reader  ${messages.received} messages, ${messages.dropped} dropped, in order (${rate(figures.forAwaitReader.messagesPerSecond)})`,
    );
    console.log(`  batch reader      ${batches.received} frames, 0 dropped, logged (${rate(figures.batchReader.framesPerSecond)})`);
    console.log(
      `  BLF log           ${blf.frames} frames read back from ${blf.path} (${(blf.bytes / 1e6).toFixed(2)} MB, ${(blf.bytes / blf.frames).toFixed(1)} B/frame)`,
    );
    console.log(`  slow reader       ${slow.received} frames, ${slow.dropped} dropped and counted (queue of 1024, reads every 20 ms)`);
    console.log(`  bus stats         rx ${stats.rxFrames}, dropped on full queues ${stats.rxDroppedQueueFull}`);
    console.log(accounted ? "  every frame was received or counted as dropped, by every reader" : "  FRAMES UNACCOUNTED FOR");
    console.log(
      `  ISO-TP exchange   4095 bytes each way in ${isoTp.framesOnWire} frames, ${(isoTp.seconds * 1000).toFixed(1)} ms, ${isoTp.ok ? "payload intact" : "PAYLOAD MISMATCH"}`,
    );
    console.log(
      `  cyclic heartbeat  ${cyclic.received} of ${cyclic.sent} frames every ${cyclic.periodMs} ms (native scheduler), mean gap ${cyclic.meanGapMs.toFixed(3)} ms, worst gap error ${cyclic.maxGapErrorMs.toFixed(3)} ms${cyclic.inOrder ? "" : ", OUT OF ORDER"}`,
    );
  }
  return accounted && isoTp.ok && cyclicOk ? 0 : 1;
}
