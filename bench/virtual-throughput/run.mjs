// bench/virtual-throughput: JS send -> native -> JS receive on the virtual bus,
// through the batch path and the per-message async iterator, against Debian's
// python3-can VirtualBus doing the same job in the same run.
//
//   node bench/virtual-throughput/run.mjs [FRAMES]
//
// Prints JSON: frames/s and CPU us per frame for each path, and the ratios to
// python-can. Targets (issue 2): batch >= 1,000,000 frames/s and >= 7x python-can;
// per-message iterator >= 2x python-can.
//
// Two builds against each other, runs interleaved, medians:
//   node bench/compare-builds.mjs BEFORE_DIR AFTER_DIR --pairs 5
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Bus, encodeMessages, Message } from "../../dist/index.js";

const frames = Number(process.argv[2] ?? 1_000_000);
const chunk = 1000;
const payload = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];

function measure(run) {
  return async (n) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const received = await run(n);
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (received !== n) throw new Error(`received ${received} of ${n}`);
    return { frames: n, framesPerSecond: n / wall, cpuMicrosPerFrame: (cpu.user + cpu.system) / n };
  };
}

/** Batch path: prebuilt record batches out, FrameBatch views in. */
const batchPath = measure(async (n) => {
  const channel = `bench-batch-${process.pid}`;
  const tx = await Bus.open({ channel });
  const rx = await Bus.open({ channel });
  const records = encodeMessages(Array.from({ length: chunk }, (_, i) => new Message({ id: i & 0x7ff, data: payload })));
  let received = 0;
  let checksum = 0;
  for (let start = 0; start < n; start += chunk) {
    await tx.sendBatch(records);
    for (let batch = await rx.recvBatch({ timeoutMs: 0 }); batch; batch = await rx.recvBatch({ timeoutMs: 0 })) {
      for (let i = 0; i < batch.length; i++) checksum += batch.id(i);
      received += batch.length;
    }
  }
  if (checksum === 0) throw new Error("no ids seen");
  await tx.close();
  await rx.close();
  return received;
});

/** Batch path including message encoding on the sender: Message objects out, FrameBatch in. */
const batchFromMessages = measure(async (n) => {
  const channel = `bench-batchmsg-${process.pid}`;
  const tx = await Bus.open({ channel });
  const rx = await Bus.open({ channel });
  let received = 0;
  for (let start = 0; start < n; start += chunk) {
    const messages = new Array(chunk);
    for (let i = 0; i < chunk; i++) messages[i] = new Message({ id: (start + i) & 0x7ff, data: payload });
    await tx.sendBatch(messages);
    for (let batch = await rx.recvBatch({ timeoutMs: 0 }); batch; batch = await rx.recvBatch({ timeoutMs: 0 })) {
      received += batch.length;
    }
  }
  await tx.close();
  await rx.close();
  return received;
});

/** Per-message path: one send per message, the async iterator on the receiver. */
const perMessage = measure(async (n) => {
  const channel = `bench-msg-${process.pid}`;
  const tx = await Bus.open({ channel });
  const rx = await Bus.open({ channel });
  const it = rx[Symbol.asyncIterator]();
  let received = 0;
  for (let start = 0; start < n; start += chunk) {
    for (let i = 0; i < chunk; i++) await tx.send({ id: (start + i) & 0x7ff, data: payload });
    for (let i = 0; i < chunk; i++) {
      const { value } = await it.next();
      if (value.data.length !== 8) throw new Error("bad frame");
      received++;
    }
  }
  await tx.close();
  await rx.close();
  return received;
});

function pythonCan(n) {
  const script = fileURLToPath(new URL("./python_can_virtual.py", import.meta.url));
  try {
    return JSON.parse(execFileSync("/usr/bin/python3", [script, String(n)], { encoding: "utf8" }));
  } catch (error) {
    return { error: `python3-can baseline unavailable (apt-get install python3-can): ${error.message.split("\n")[0]}` };
  }
}

// Warm up the JIT and the native paths before measuring.
await batchPath(20_000);
await perMessage(20_000);

const perMessageFrames = Math.min(frames, 200_000);
const result = {
  benchmark: "virtual-throughput",
  node: process.version,
  canwire: {
    batch: await batchPath(frames),
    batchFromMessages: await batchFromMessages(frames),
    perMessageIterator: await perMessage(perMessageFrames),
  },
  pythonCan: pythonCan(perMessageFrames),
};
if (!result.pythonCan.error) {
  const base = result.pythonCan.framesPerSecond;
  const baseCpu = result.pythonCan.cpuMicrosPerFrame;
  result.ratios = {
    batchVsPythonCan: result.canwire.batch.framesPerSecond / base,
    batchFromMessagesVsPythonCan: result.canwire.batchFromMessages.framesPerSecond / base,
    perMessageVsPythonCan: result.canwire.perMessageIterator.framesPerSecond / base,
    batchCpuPerFrameVsPythonCan: result.canwire.batch.cpuMicrosPerFrame / baseCpu,
  };
}
result.targets = {
  batchAtLeast1MFramesPerSecond: result.canwire.batch.framesPerSecond >= 1_000_000,
  batchAtLeast7xPythonCan: result.ratios ? result.ratios.batchVsPythonCan >= 7 : null,
  perMessageAtLeast2xPythonCan: result.ratios ? result.ratios.perMessageVsPythonCan >= 2 : null,
};
console.log(JSON.stringify(result, null, 2));
