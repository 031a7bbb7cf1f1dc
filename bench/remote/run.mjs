// bench/remote: receiving over Jumpstarter on loopback (npm run bench:remote),
// three pairings in one run:
//   (a) Python CanClient  <- Python exporter (jmp run): _recv_internal polls
//   (b) canwire's client  <- Python exporter: the same polls, one in flight
//   (c) canwire's client  <- canwire's exporter (serveExporter): canwire_recv_stream
// and the round-trip time of a 4095-byte ISO-TP request and its 4095-byte
// response in each pairing (a responder on `isotp_peer` answers at once).
//
//   npm run build && npm run bench:remote [-- FRAMES_PYTHON FRAMES_CANWIRE]
//
// (a) and (b) drain the same backlog: a periodic task on the exporter's
// `peer` driver fills `can`'s queue first (python-can's virtual bus queues
// without bound), then the client reads until the queue stays empty for
// 0.5 s; the rate is frames over first-to-last receive time. (c) sends from
// a canwire virtual bus in this process into the exported channel as fast as
// the client drains it, never more than 32 768 frames ahead (half the
// exporter's per-stream queue), so nothing may be lost: the exporter's drop
// count is reported and must be 0.
//
// Targets (issue 13): (b) >= (a); (c) >= 100 x (a) and >= 50 000 frames/s.
// The machine is shared: compare the ratios of one run, not runs.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as canwire from "../../dist/index.js";

const { Bus, IsoTp } = canwire;
const root = fileURLToPath(new URL("../../", import.meta.url));
const venvBin = join(root, "target", "py-peers", "bin");
const fixtures = join(root, "__test__", "fixtures", "jumpstarter");
const PYTHON_FRAMES = Number(process.argv[2] ?? 3000);
const CANWIRE_FRAMES = Number(process.argv[3] ?? 300_000);
const RTT_ROUNDS = 5;
const ISOTP_SIZE = 4095;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function pythonEnv(extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(_?JMP_|JUMPSTARTER_)/.test(k)));
  return { ...env, PYTHONPATH: fixtures, PYTHONUNBUFFERED: "1", NO_COLOR: "1", ...extra };
}

/** `jmp run` with the reference exporter config on a free loopback port. */
async function startPythonExporter() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "canwire-bench-remote-"));
  const child = spawn(
    join(venvBin, "jmp"),
    ["run", "--exporter-config", join(fixtures, "exporter.yaml"), "--tls-grpc-listener", `127.0.0.1:${port}`, "--tls-grpc-insecure"],
    { env: pythonEnv({ TMPDIR: dir }), stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let log = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jmp run did not start within 60 s:\n${log}`)), 60_000);
    child.stderr.on("data", (chunk) => {
      log += chunk;
      if (log.includes("Session server started")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`jmp run exited (${code}):\n${log}`)));
  });
  const host = `127.0.0.1:${port}`;
  return {
    host,
    env: { JUMPSTARTER_HOST: host, JMP_GRPC_INSECURE: "1", JMP_DRIVERS_ALLOW: "UNSAFE" },
    stop() {
      try {
        process.kill(-child.pid, "SIGTERM"); // jmp run forks its worker into its own group: end both
      } catch {}
      try {
        process.kill(child.pid, "SIGTERM");
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a Python script with the venv; resolves the JSON it prints after "RESULT ". */
function runPython(script, env, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    execFile(
      join(venvBin, "python"),
      ["-c", script],
      { env: pythonEnv(env), timeout: timeoutMs, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
        if (error || !line) reject(new Error(`python failed: ${error?.message ?? "no RESULT"}\n${stderr}`));
        else resolve(JSON.parse(line.slice(7)));
      },
    );
  });
}

/** Fills `can`'s queue on the Python exporter with about `n` frames sent by a periodic task on `peer`. */
async function prefill(exporter, n) {
  return runPython(
    `import json, time, can
from jumpstarter.common.utils import env
with env() as c:
    period = 0.0002
    task = c.peer.send_periodic(can.Message(arbitration_id=0x123, is_extended_id=False, data=bytes(8)), period)
    time.sleep(${n} * period)
    task.stop()
    print("RESULT", json.dumps(True))
`,
    exporter.env,
  );
}

/** (a) Python CanClient drains `can`. */
function drainPython(exporter) {
  return runPython(
    `import json, time
from jumpstarter.common.utils import env
with env() as c:
    n, first, last = 0, None, None
    while True:
        m = c.can.recv(0.5)
        if m is None:
            break
        last = time.perf_counter()
        if first is None:
            first = last
        n += 1
    print("RESULT", json.dumps({"frames": n, "seconds": (last - first) if n > 1 else 0}))
`,
    exporter.env,
  );
}

/** (b) or (c): canwire's client drains `channel` until it stays empty for 0.5 s. */
async function drainCanwire(options) {
  const bus = await Bus.open({ interface: "jumpstarter", channel: "can", insecure: true, ...options });
  try {
    let n = 0;
    let first;
    let last;
    for (;;) {
      const batch = await bus.recvBatch({ timeoutMs: 500 });
      if (!batch) break;
      last = performance.now();
      first ??= last;
      n += batch.length;
    }
    return { frames: n, seconds: n > 1 ? (last - first) / 1000 : 0, info: bus.channelInfo };
  } finally {
    await bus.close();
  }
}

/** (c): frames sent into the exported virtual channel while canwire's client drains them. */
async function streamCanwire(exporterHost, channel) {
  const source = await Bus.open({ interface: "virtual", channel });
  const bus = await Bus.open({ interface: "jumpstarter", channel: "can", host: exporterHost, insecure: true });
  try {
    return await pump(source, bus);
  } finally {
    await bus.close();
    await source.close();
  }
}

async function pump(source, bus) {
  const batch = Array.from({ length: 1024 }, (_, i) => ({ id: 0x100 + (i & 0xff), data: [i & 0xff, 1, 2, 3, 4, 5, 6, 7] }));
  let received = 0;
  let first;
  let last;
  const reading = (async () => {
    while (received < CANWIRE_FRAMES) {
      const got = await bus.recvBatch({ max: 65_536, timeoutMs: 5000 });
      if (!got) break;
      last = performance.now();
      first ??= last;
      received += got.length;
    }
  })();
  let sent = 0;
  while (sent < CANWIRE_FRAMES) {
    while (sent - received >= 32_768) await new Promise((resolve) => setImmediate(resolve));
    const n = Math.min(batch.length, CANWIRE_FRAMES - sent);
    await source.sendBatch(n === batch.length ? batch : batch.slice(0, n));
    sent += n;
  }
  await reading;
  const stats = bus.stats();
  return {
    frames: received,
    sent,
    seconds: (last - first) / 1000,
    droppedByExporter: stats.rxDroppedKernel,
    info: bus.channelInfo,
  };
}

/** ISO-TP round trips between a canwire IsoTp on `isotp` and a canwire responder on `isotp_peer`. */
async function rttCanwire(host) {
  const tester = await IsoTp.open({ interface: "jumpstarter", channel: "isotp", host, insecure: true });
  const responder = await IsoTp.open({ interface: "jumpstarter", channel: "isotp_peer", host, insecure: true });
  try {
    return await roundTrips(tester, responder);
  } finally {
    await tester.close();
    await responder.close();
  }
}

async function roundTrips(tester, responder) {
  const request = Uint8Array.from({ length: ISOTP_SIZE }, (_, i) => i & 0xff);
  const response = Uint8Array.from({ length: ISOTP_SIZE }, (_, i) => (i * 5) & 0xff);
  const answering = (async () => {
    for (let i = 0; i < RTT_ROUNDS; i++) {
      const got = await responder.recv({ timeoutMs: 30_000 });
      if (!got || got.length !== ISOTP_SIZE) throw new Error(`responder got ${got?.length}`);
      await responder.send(response);
    }
  })();
  const times = [];
  for (let i = 0; i < RTT_ROUNDS; i++) {
    const start = performance.now();
    await tester.send(request);
    const back = await tester.recv({ timeoutMs: 30_000 });
    if (!back || back.length !== ISOTP_SIZE) throw new Error(`tester got ${back?.length}`);
    times.push(performance.now() - start);
  }
  await answering;
  return median(times);
}

/** (a) ISO-TP round trips with Python IsoTpClients on both drivers. */
async function rttPython(exporter) {
  const result = await runPython(
    `import json, time
from jumpstarter.common.utils import env
with env() as c:
    tester, responder = c.isotp, c.isotp_peer
    tester.start(); responder.start()
    try:
        request = bytes(i & 0xff for i in range(${ISOTP_SIZE}))
        response = bytes((i * 5) & 0xff for i in range(${ISOTP_SIZE}))
        times = []
        for _ in range(${RTT_ROUNDS}):
            start = time.perf_counter()
            tester.send(request)
            got = responder.recv(block=True, timeout=30.0)
            assert len(got) == ${ISOTP_SIZE}
            responder.send(response)
            back = tester.recv(block=True, timeout=30.0)
            assert len(back) == ${ISOTP_SIZE}
            times.append((time.perf_counter() - start) * 1000)
        print("RESULT", json.dumps(sorted(times)[len(times) // 2]))
    finally:
        tester.stop(); responder.stop()
`,
    exporter.env,
  );
  return result;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const rate = (r) => (r.seconds > 0 ? Math.round(r.frames / r.seconds) : 0);
const round = (x) => Math.round(x * 100) / 100;

async function main() {
  if (!existsSync(join(venvBin, "jmp")) || !existsSync(join(fixtures, "exporter.yaml"))) {
    console.error("bench/remote needs the Jumpstarter venv (node scripts/python-peers.mjs) and __test__/fixtures/jumpstarter");
    process.exit(2);
  }
  const figures = {};
  const python = await startPythonExporter();
  try {
    await prefill(python, PYTHON_FRAMES);
    const a = await drainPython(python);
    await prefill(python, PYTHON_FRAMES);
    const b = await drainCanwire({ host: python.host });
    figures.a_python_client_from_python_exporter = { framesPerSecond: rate(a), frames: a.frames };
    figures.b_canwire_client_from_python_exporter = { framesPerSecond: rate(b), frames: b.frames, driver: b.info };
    figures.isotp_rtt_ms = {
      a_python_clients_python_exporter: round(await rttPython(python)),
      b_canwire_clients_python_exporter: round(await rttCanwire(python.host)),
    };
  } finally {
    python.stop();
  }
  if (typeof canwire.serveExporter === "function") {
    const channel = `bench-remote-${process.pid}`;
    const isotp = `bench-remote-tp-${process.pid}`;
    const exporter = await canwire.serveExporter(`apiVersion: jumpstarter.dev/v1alpha1
kind: ExporterConfig
metadata: {namespace: default, name: bench}
export:
  can: {type: jumpstarter_driver_can.driver.Can, config: {channel: ${channel}, interface: virtual}}
  isotp: {type: jumpstarter_driver_can.driver.IsoTpPython, config: {channel: ${isotp}, interface: virtual, address: {txid: 0x7E0, rxid: 0x7E8}}}
  isotp_peer: {type: jumpstarter_driver_can.driver.IsoTpPython, config: {channel: ${isotp}, interface: virtual, address: {txid: 0x7E8, rxid: 0x7E0}}}
`);
    try {
      const c = await streamCanwire(exporter.address, channel);
      figures.c_canwire_client_from_canwire_exporter = {
        framesPerSecond: rate(c),
        frames: c.frames,
        sent: c.sent,
        lost: c.sent - c.frames,
        droppedByExporter: c.droppedByExporter,
        driver: c.info,
      };
      figures.isotp_rtt_ms.c_canwire_client_canwire_exporter = round(await rttCanwire(exporter.address));
    } finally {
      await exporter.close();
    }
  } else {
    figures.c_canwire_client_from_canwire_exporter = "skipped: this build has no serveExporter";
  }
  const a = figures.a_python_client_from_python_exporter.framesPerSecond;
  const b = figures.b_canwire_client_from_python_exporter.framesPerSecond;
  const c = figures.c_canwire_client_from_canwire_exporter.framesPerSecond;
  figures.ratios = {
    b_over_a: round(b / a),
    ...(c === undefined ? {} : { c_over_a: round(c / a) }),
  };
  figures.targets = {
    "b >= a": b >= a,
    ...(c === undefined
      ? {}
      : {
          "c >= 100 a": c >= 100 * a,
          "c >= 50 000/s": c >= 50_000,
          "c lost nothing":
            figures.c_canwire_client_from_canwire_exporter.lost === 0 &&
            figures.c_canwire_client_from_canwire_exporter.droppedByExporter === 0,
        }),
  };
  console.log(JSON.stringify(figures, null, 2));
}

await main();
process.exit(0);
