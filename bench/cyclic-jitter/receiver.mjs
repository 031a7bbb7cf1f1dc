// Worker of bench/cyclic-jitter: receives the bench's frames on its own bus
// (off the main thread, so the main event loop stays idle or loaded as the row
// asks) and keeps each frame's id, receive instant and slot marker.
//
// While a row runs the worker only takes the queued frames every 10 ms, as
// the reference loop's receiver thread does, and keeps the batches as they
// came; it reads their records once the row is collected. Decoding them as
// they came cost this process a share of a CPU (half a million frames per
// second in the densest rows), in system calls and garbage collection that
// delayed the scheduler thread's wake-ups on a kernel that does not preempt
// (`preempt=none`): load the reference loop's rows did not carry.
//
// Messages in: { type: "begin" } drops what is queued, then keeps
// frames from the answer { type: "begun" } on; { type: "collect" } answers { type: "rows", ids, t, marker, count, dropped }
// with what was kept since "begin" (t in ns relative to the row's first frame)
// and stops keeping; { type: "close" } ends the worker.
import { parentPort, workerData } from "node:worker_threads";
import { Bus, RECORD_SIZE } from "../../dist/index.js";

const POLL_MS = 10;
/** Queue bound; every drain takes all that is queued (the queue then swaps its frames out in O(1), never holding up the sender). */
const QUEUE_SIZE = 1 << 22;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** SocketCAN: a kernel receive buffer large enough for the densest row between drains. */
const RECEIVE_BUFFER = 16 << 20;

const bus = await Bus.open({
  interface: workerData.interface,
  channel: workerData.channel,
  rxQueueSize: QUEUE_SIZE,
  ...(workerData.interface === "socketcan" ? { receiveBufferSize: RECEIVE_BUFFER } : {}),
});

/** The batches kept for the current row; null between rows. */
let row = null;
/** A "begin" not yet answered. */
let beginAsked = false;
let collectAsked = false;
let closeAsked = false;

/** The kept batches' records as columns: t in ns from the row's first frame. */
function decode(r) {
  const count = r.batches.reduce((n, b) => n + b.length, 0);
  const ids = new Uint32Array(count);
  const t = new Float64Array(count);
  const marker = new Uint32Array(count);
  let k = 0;
  let baseHi = -1;
  let baseLo = 0;
  for (const batch of r.batches) {
    const view = new DataView(batch.buffer.buffer, batch.buffer.byteOffset, batch.buffer.byteLength);
    for (let i = 0; i < batch.length; i++, k++) {
      const at = i * RECORD_SIZE;
      const lo = view.getUint32(at, true);
      const hi = view.getUint32(at + 4, true);
      if (baseHi < 0) {
        baseHi = hi;
        baseLo = lo;
      }
      t[k] = (hi - baseHi) * 4_294_967_296 + (lo - baseLo);
      ids[k] = view.getUint32(at + 8, true);
      marker[k] = view.getUint32(at + 24, true);
    }
  }
  return { ids, t, marker, count };
}

/** Takes everything queued; keeps the batches when a row is open. */
async function drain() {
  for (
    let batch = await bus.recvBatch({ max: QUEUE_SIZE, timeoutMs: 0 });
    batch;
    batch = await bus.recvBatch({ max: QUEUE_SIZE, timeoutMs: 0 })
  ) {
    if (row) row.batches.push(batch);
  }
}

parentPort.on("message", (m) => {
  if (m.type === "begin") beginAsked = true;
  else if (m.type === "collect") collectAsked = true;
  else if (m.type === "close") closeAsked = true;
});
parentPort.postMessage({ type: "ready" });

/** Frames this bus lost: its queues full, or the kernel's receive buffer. */
function droppedNow() {
  const stats = bus.stats();
  return stats.rxDroppedQueueFull + stats.rxDroppedKernel;
}

let droppedBefore = 0;
while (!closeAsked) {
  await sleep(POLL_MS);
  await drain();
  if (beginAsked) {
    droppedBefore = droppedNow();
    row = { batches: [] };
    beginAsked = false;
    parentPort.postMessage({ type: "begun" });
  }
  if (collectAsked && row) {
    const dropped = droppedNow() - droppedBefore;
    const { ids, t, marker, count } = decode(row);
    parentPort.postMessage({ type: "rows", ids, t, marker, count, dropped }, [ids.buffer, t.buffer, marker.buffer]);
    row = null;
    collectAsked = false;
  }
}
await bus.close();
parentPort.close();
