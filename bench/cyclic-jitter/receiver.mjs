// Worker of bench/cyclic-jitter: receives the bench's frames on its own bus
// (off the main thread, so the main event loop stays idle or loaded as the row
// asks) and keeps each frame's id, receive instant and slot marker.
//
// Messages in: { type: "begin", capacity } drops what is queued, then keeps
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

/** Frames kept for the current row; null between rows. */
let row = null;
/** The capacity asked by a "begin" not yet answered. */
let beginAsked = 0;
let collectAsked = false;
let closeAsked = false;

function newRow(capacity) {
  return {
    ids: new Uint32Array(capacity),
    t: new Float64Array(capacity),
    marker: new Uint32Array(capacity),
    count: 0,
    baseHi: -1,
    baseLo: 0,
  };
}

function grow(r) {
  const size = r.ids.length * 2;
  for (const key of ["ids", "t", "marker"]) {
    const bigger = new r[key].constructor(size);
    bigger.set(r[key]);
    r[key] = bigger;
  }
}

/** Reads everything queued; keeps it when a row is open. */
async function drain() {
  for (
    let batch = await bus.recvBatch({ max: QUEUE_SIZE, timeoutMs: 0 });
    batch;
    batch = await bus.recvBatch({ max: QUEUE_SIZE, timeoutMs: 0 })
  ) {
    if (!row) continue;
    const view = new DataView(batch.buffer.buffer, batch.buffer.byteOffset, batch.buffer.byteLength);
    for (let i = 0; i < batch.length; i++) {
      const at = i * RECORD_SIZE;
      const lo = view.getUint32(at, true);
      const hi = view.getUint32(at + 4, true);
      if (row.baseHi < 0) {
        row.baseHi = hi;
        row.baseLo = lo;
      }
      if (row.count === row.ids.length) grow(row);
      row.t[row.count] = (hi - row.baseHi) * 4_294_967_296 + (lo - row.baseLo);
      row.ids[row.count] = view.getUint32(at + 8, true);
      row.marker[row.count++] = view.getUint32(at + 24, true);
    }
  }
}

parentPort.on("message", (m) => {
  if (m.type === "begin") beginAsked = Math.max(1024, m.capacity);
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
    row = newRow(beginAsked);
    beginAsked = 0;
    parentPort.postMessage({ type: "begun" });
  }
  if (collectAsked && row) {
    const { ids, t, marker, count } = row;
    const dropped = droppedNow() - droppedBefore;
    parentPort.postMessage({ type: "rows", ids, t, marker, count, dropped }, [ids.buffer, t.buffer, marker.buffer]);
    row = null;
    collectAsked = false;
  }
}
await bus.close();
parentPort.close();
