// bench/blf/formats.mjs: MF4 and SQLite log write and read speed and file
// size, canwire (native codec, and LogWriter/LogReader from JS) against
// python-can 4.6 (MF4 through asammdf 8.8) from the peers' venv, in the same
// run on the same traffic as the BLF bench (50 cyclic ids with rolling
// counters every 125 µs, and random ids and data). Runs interleave and each
// figure is the median of REPEATS runs.
//
//   node bench/blf/formats.mjs [FRAMES=1000000] [PYTHON_FRAMES=20000] [LEVEL=2] [REPEATS=3]
//
// LEVEL is python-can's MF4 compression_level (0 none, 1 deflate, 2
// transposed deflate) for both sides. File sizes compare canwire and
// python-can at the same frame count (PYTHON_FRAMES) and level.
// Targets (issue 15): write and read >= 3x python-can for each format; MF4
// files within 10 % of asammdf's size.
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LogReader, LogWriter, Message } from "../../dist/index.js";

const frames = Number(process.argv[2] ?? 1_000_000);
const pythonFrames = Number(process.argv[3] ?? 20_000);
const level = Number(process.argv[4] ?? 2);
const repeats = Number(process.argv[5] ?? 3);
const root = fileURLToPath(new URL("../..", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));
const venvPython = join(root, "target", "py-peers", "bin", "python");

execFileSync("cargo", ["build", "--release", "-q", "-p", "canwire-bus", "--example", "log_formats_bench"], {
  cwd: root,
  stdio: "inherit",
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The median of each numeric field over runs. */
function medians(runs) {
  if (runs.some((r) => r.error)) return runs.find((r) => r.error);
  const out = { ...runs[0] };
  for (const key of Object.keys(out)) if (typeof out[key] === "number") out[key] = median(runs.map((r) => r[key]));
  out.runs = runs.length;
  return out;
}

function native(ext, n, traffic) {
  const path = join(tmpdir(), `canwire-bench-native-${traffic}.${ext}`);
  const out = JSON.parse(
    execFileSync(join(root, "target/release/examples/log_formats_bench"), [path, String(n), String(level), traffic], {
      encoding: "utf8",
    }),
  );
  rmSync(path, { force: true });
  return out;
}

function python(ext, traffic) {
  const path = join(tmpdir(), `canwire-bench-python-${traffic}.${ext}`);
  if (!existsSync(venvPython)) return { error: "no target/py-peers: run node scripts/python-peers.mjs" };
  try {
    return JSON.parse(
      execFileSync(venvPython, [join(here, "python_can_formats.py"), path, String(pythonFrames), String(level), traffic], {
        encoding: "utf8",
        maxBuffer: 1 << 20,
      }),
    );
  } catch (error) {
    return { error: `python-can failed: ${error.message.split("\n")[0]}` };
  } finally {
    rmSync(path, { force: true });
  }
}

/** JS: realistic traffic as Message objects through LogWriter, read back as LogReader batches. */
async function fromJs(ext, n) {
  const path = join(tmpdir(), `canwire-bench-js.${ext}`);
  rmSync(path, { force: true });
  const writer = LogWriter.create(path, { mf4Compression: level, flushIntervalMs: 0 });
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
  for await (const batch of LogReader.open(path).batches(16_384)) read += batch.length;
  const readS = (performance.now() - t1) / 1000;
  rmSync(path, { force: true });
  if (read !== n) throw new Error(`read ${read} of ${n}`);
  return { frames: n, writeFramesPerSecond: n / writeS, readToJsFramesPerSecond: n / readS };
}

const result = { benchmark: "log-formats", level, frames, pythonFrames, repeats, canwire: {}, pythonCan: {}, ratios: {}, targets: {} };
for (const ext of ["mf4", "db"]) {
  result.canwire[ext] = {};
  result.pythonCan[ext] = {};
  for (const traffic of ["realistic", "random"]) {
    const nat = [];
    const same = [];
    const py = [];
    for (let r = 0; r < repeats; r++) {
      nat.push(native(ext, frames, traffic));
      py.push(python(ext, traffic));
      same.push(native(ext, pythonFrames, traffic));
    }
    result.canwire[ext][traffic] = medians(nat);
    result.canwire[ext][`${traffic}AtPythonFrames`] = medians(same);
    result.pythonCan[ext][traffic] = medians(py);
  }
  const js = [];
  for (let r = 0; r < repeats; r++) js.push(await fromJs(ext, Math.min(frames, 1_000_000)));
  result.canwire[ext].fromJs = medians(js);

  const ratios = {};
  const targets = {};
  for (const traffic of ["realistic", "random"]) {
    const c = result.canwire[ext][traffic];
    const p = result.pythonCan[ext][traffic];
    if (p.error) continue;
    ratios[`${traffic}WriteVsPythonCan`] = c.writeFramesPerSecond / p.writeFramesPerSecond;
    ratios[`${traffic}ReadVsPythonCan`] = c.readFramesPerSecond / p.readFramesPerSecond;
    ratios[`${traffic}FileSizeVsPythonCan`] = result.canwire[ext][`${traffic}AtPythonFrames`].fileBytes / p.fileBytes;
    targets[`${traffic}WriteAtLeast3xPythonCan`] = ratios[`${traffic}WriteVsPythonCan`] >= 3;
    targets[`${traffic}ReadAtLeast3xPythonCan`] = ratios[`${traffic}ReadVsPythonCan`] >= 3;
    if (ext === "mf4") targets[`${traffic}FileSizeWithin10PercentOfAsammdf`] = ratios[`${traffic}FileSizeVsPythonCan`] <= 1.1;
  }
  const p = result.pythonCan[ext].realistic;
  if (!p.error) {
    ratios.jsWriteFromMessagesVsPythonCan = result.canwire[ext].fromJs.writeFramesPerSecond / p.writeFramesPerSecond;
    ratios.readToJsVsPythonCan = result.canwire[ext].fromJs.readToJsFramesPerSecond / p.readFramesPerSecond;
    targets.readToJsAtLeast3xPythonCan = ratios.readToJsVsPythonCan >= 3;
  }
  result.ratios[ext] = ratios;
  result.targets[ext] = targets;
}
console.log(JSON.stringify(result, null, 2));
console.log(JSON.stringify({ benchmark: "log-formats", pass: result.targets }));
