// bench/blf: BLF write and read speed, bytes per frame and peak RSS, for
// canwire's native codec, canwire from JS (LogWriter / LogReader), and Debian's
// python3-can in the same run at the same zlib level, on realistic traffic
// (50 cyclic ids with rolling counters) and random traffic.
//
//   node bench/blf/run.mjs [FRAMES=10000000] [PYTHON_FRAMES=1000000] [LEVEL=6]
//
// Targets (issue 6): write >= 3x python-can and >= 2 M frames/s at the default
// level; native read >= 5 M frames/s; delivery to JS >= 3x python-can; file
// size within 5% of python-can's; RSS flat while the frame count grows.
// python-can runs on fewer frames by default (it is slow); ratios compare rates.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeMessages, FrameBatch, LogReader, LogWriter, Message } from "../../dist/index.js";

const frames = Number(process.argv[2] ?? 10_000_000);
const pythonFrames = Number(process.argv[3] ?? 1_000_000);
const level = Number(process.argv[4] ?? 6);
const root = fileURLToPath(new URL("../..", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));

execFileSync("cargo", ["build", "--release", "-q", "-p", "canwire-core", "--example", "blf_bench"], { cwd: root, stdio: "inherit" });

function native(traffic) {
  const path = join(tmpdir(), `canwire-bench-native-${traffic}.blf`);
  const out = JSON.parse(
    execFileSync(join(root, "target/release/examples/blf_bench"), [path, String(frames), String(level), traffic], { encoding: "utf8" }),
  );
  rmSync(path, { force: true });
  return out;
}

function python(traffic) {
  const path = join(tmpdir(), `canwire-bench-python-${traffic}.blf`);
  try {
    return JSON.parse(
      execFileSync("/usr/bin/python3", [join(here, "python_can_blf.py"), path, String(pythonFrames), String(level), traffic], {
        encoding: "utf8",
      }),
    );
  } catch (error) {
    return { error: `python3-can unavailable (apt-get install python3-can): ${error.message.split("\n")[0]}` };
  } finally {
    rmSync(path, { force: true });
  }
}

/** JS: realistic traffic built as Message objects, written through LogWriter, read back through LogReader batches. */
async function fromJs(n) {
  const path = join(tmpdir(), "canwire-bench-js.blf");
  const writer = LogWriter.create(path, { compressionLevel: level });
  const t0 = performance.now();
  for (let start = 0; start < n; start += 16_384) {
    const count = Math.min(16_384, n - start);
    const messages = new Array(count);
    for (let j = 0; j < count; j++) {
      const i = start + j;
      const k = i % 50;
      const counter = Math.floor(i / 50) & 0xffff;
      messages[j] = new Message({
        id: 0x100 + k,
        data: [counter & 0xff, counter >> 8, k, 0x11, 0x22, 0x33, 0x44, 0x55],
        timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 125_000n,
      });
    }
    await writer.write(messages);
  }
  await writer.close();
  const writeS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  let read = 0;
  let checksum = 0;
  for await (const batch of LogReader.open(path).batches(16_384)) {
    for (let i = 0; i < batch.length; i++) checksum += batch.id(i);
    read += batch.length;
  }
  const readS = (performance.now() - t1) / 1000;
  rmSync(path, { force: true });
  if (read !== n || checksum === 0) throw new Error(`read ${read} of ${n}`);
  return {
    frames: n,
    writeFramesPerSecond: n / writeS,
    readToJsFramesPerSecond: n / readS,
    peakRssKb: Math.round(process.resourceUsage().maxRSS),
  };
}

/** JS logger path: received record batches (as bus.batches() yields them) written through LogWriter. */
async function fromBatches(n) {
  const path = join(tmpdir(), "canwire-bench-batches.blf");
  const chunk = 16_384;
  const records = encodeMessages(
    Array.from(
      { length: chunk },
      (_, i) =>
        new Message({
          id: 0x100 + (i % 50),
          data: [i & 0xff, (i >> 8) & 0xff, i % 50, 0x11, 0x22, 0x33, 0x44, 0x55],
          timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 125_000n,
        }),
    ),
  );
  const batch = new FrameBatch(records, () => "can0");
  const writer = LogWriter.create(path, { compressionLevel: level });
  const t0 = performance.now();
  for (let done = 0; done < n; done += chunk) await writer.write(batch);
  await writer.close();
  const seconds = (performance.now() - t0) / 1000;
  rmSync(path, { force: true });
  return { frames: Math.ceil(n / chunk) * chunk, writeFramesPerSecond: (Math.ceil(n / chunk) * chunk) / seconds };
}

const result = { benchmark: "blf", level, frames, pythonFrames, canwire: {}, pythonCan: {}, ratios: {} };
for (const traffic of ["realistic", "random"]) {
  result.canwire[traffic] = native(traffic);
  result.pythonCan[traffic] = python(traffic);
}
result.canwire.fromJs = await fromJs(Math.min(frames, 2_000_000));
result.canwire.fromJsBatches = await fromBatches(Math.min(frames, 4_000_000));
const nat = result.canwire.realistic;
const py = result.pythonCan.realistic;
if (!py.error) {
  result.ratios = {
    nativeWriteVsPythonCan: nat.writeFramesPerSecond / py.writeFramesPerSecond,
    jsWriteFromMessagesVsPythonCan: result.canwire.fromJs.writeFramesPerSecond / py.writeFramesPerSecond,
    jsWriteFromBatchesVsPythonCan: result.canwire.fromJsBatches.writeFramesPerSecond / py.writeFramesPerSecond,
    nativeReadVsPythonCan: nat.readFramesPerSecond / py.readFramesPerSecond,
    readToJsVsPythonCan: result.canwire.fromJs.readToJsFramesPerSecond / py.readFramesPerSecond,
    fileSizeVsPythonCan: nat.bytesPerFrame / py.bytesPerFrame,
    randomFileSizeVsPythonCan: result.pythonCan.random.error
      ? null
      : result.canwire.random.bytesPerFrame / result.pythonCan.random.bytesPerFrame,
  };
}
result.targets = {
  writeAtLeast3xPythonCan: py.error ? null : result.ratios.nativeWriteVsPythonCan >= 3,
  writeAtLeast2MFramesPerSecond: nat.writeFramesPerSecond >= 2_000_000,
  nativeReadAtLeast5MFramesPerSecond: nat.readFramesPerSecond >= 5_000_000,
  readToJsAtLeast3xPythonCan: py.error ? null : result.ratios.readToJsVsPythonCan >= 3,
  fileSizeWithin5PercentOfPythonCan: py.error ? null : Math.abs(result.ratios.fileSizeVsPythonCan - 1) <= 0.05,
  rssFlat: nat.peakRssKbAfterWrite <= nat.peakRssKbAtTenth * 1.2,
};
console.log(JSON.stringify(result, null, 2));
