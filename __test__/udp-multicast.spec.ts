/**
 * `interface: "udp_multicast"` against python-can 4.6's udp_multicast bus,
 * both ways, with exact frames. Every run happens inside a network namespace
 * the test creates (`unshare -n`), never on the machine's interfaces: IPv4
 * goes over the namespace's loopback with 224.0.0.0/4 routed to it; Linux
 * does not loop IPv6 multicast back on `lo`, so IPv6 goes over a veth pair
 * created inside the namespace (it vanishes with it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pythonPeers, skipWithoutPythonPeers } from "./peers/index.js";
import { skipWithout } from "./prerequisites.js";

const V4 = "239.74.163.2";
const V6 = "ff15:7079:7468:6f6e:6465:6d6f:6d63:6173";

const setup: Record<string, string> = {
  [V4]: "ip link set lo up && ip route add 224.0.0.0/4 dev lo",
  [V6]:
    // no duplicate address detection: the link-local source address is usable at once
    "echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad && ip link set lo up && " +
    "ip link add mca type veth peer name mcb && ip link set mca up && ip link set mcb up && " +
    "ip -6 route add ff00::/8 dev mca table local && " +
    "for i in $(seq 100); do ip -6 addr show dev mca | grep -q 'inet6 fe80' && break; sleep 0.05; done",
};

function namespaceAvailable(): boolean {
  return spawnSync("unshare", ["-n", "true"]).status === 0;
}

function msgpackAvailable(): boolean {
  return spawnSync(pythonPeers().python, ["-c", "import msgpack"]).status === 0;
}

const skip =
  skipWithoutPythonPeers() ||
  skipWithout(
    "a network namespace (`unshare -n`, as root)",
    namespaceAvailable(),
    "run the tests as root (or in a container with CAP_SYS_ADMIN)",
  ) ||
  skipWithout("msgpack in target/py-peers (python-can's multicast extra)", msgpackAvailable(), "run `node scripts/python-peers.mjs`");

/** The python-can side: waits for `expect` messages, prints them as JSON, then sends `send`. */
const pythonPeer = `
import can, json, sys
group, expect, send = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
bus = can.Bus(interface="udp_multicast", channel=group)
print("ready", flush=True)
got = []
while len(got) < expect:
    m = bus.recv(5)
    if m is None:
        break
    got.append(dict(arbitration_id=m.arbitration_id, is_extended_id=m.is_extended_id, is_remote_frame=m.is_remote_frame,
                    is_error_frame=m.is_error_frame, is_fd=m.is_fd, bitrate_switch=m.bitrate_switch,
                    error_state_indicator=m.error_state_indicator, dlc=m.dlc, data=list(m.data)))
print(json.dumps(got), flush=True)
for m in send:
    m["data"] = bytes(m.get("data", []))
    bus.send(can.Message(**m))
bus.shutdown()
`;

/** The canwire side, run by node inside the namespace; prints one JSON line. */
const canwireSide = (group: string, python: string, toPython: object[], fromPython: object[]) => `
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { Bus } from ${JSON.stringify(fileURLToPath(new URL("../dist/index.js", import.meta.url)))};
const group = ${JSON.stringify(group)};
const bus = await Bus.open({ interface: "udp_multicast", channel: group });
const own = await Bus.open({ interface: "udp_multicast", channel: group, receiveOwnMessages: true, fd: false });
const peer = spawn(${JSON.stringify(python)}, ["-c", ${JSON.stringify(pythonPeer)}, group, "${toPython.length}", ${JSON.stringify(JSON.stringify(fromPython))}]);
let out = "";
peer.stderr.on("data", (d) => process.stderr.write(d));
const lines = [];
await new Promise((resolve) => peer.stdout.on("data", (d) => { out += d; if (out.startsWith("ready\\n")) resolve(); }));
await bus.sendBatch(${JSON.stringify(toPython)});
const received = [];
for (let i = 0; i < ${fromPython.length}; i++) {
  const m = await bus.recv({ timeoutMs: 5000 });
  if (!m) break;
  received.push({ id: m.id, extended: m.extended, remote: m.remote, error: m.error, fd: m.fd, brs: m.bitrateSwitch,
    esi: m.errorStateIndicator, dlc: m.dlc, data: Array.from(m.data), isRx: m.isRx });
}
await new Promise((resolve) => peer.on("exit", resolve));
const fromPeer = JSON.parse(out.split("\\n")[1]);
// nothing more for bus: its own frames were not delivered back to it
const extra = await bus.recv({ timeoutMs: 200 });
// own: a classic bus with receiveOwnMessages saw the FD frames of the others dropped, counted
const ownSaw = [];
for (let m; (m = await own.recv({ timeoutMs: 200 })); ) ownSaw.push({ id: m.id, isRx: m.isRx });
await own.send({ id: 0x55, data: [5] });
const echo = await own.recv({ timeoutMs: 2000 });
const seen = await bus.recv({ timeoutMs: 2000 });
// a datagram that is no message is counted with its reason
const junk = createSocket(group.includes(":") ? "udp6" : "udp4");
await new Promise((resolve) => junk.send(Buffer.from([0x93, 1, 2, 3]), 43113, group, resolve));
junk.close();
await new Promise((r) => setTimeout(r, 300));
const stats = bus.stats();
console.log(JSON.stringify({
  fromPeer, received, extra: extra === null, ownSaw, ownStats: own.stats().rxDroppedFdOnClassic,
  echo: echo && { id: echo.id, isRx: echo.isRx }, seen: seen && { id: seen.id, isRx: seen.isRx },
  rxErrors: stats.rxErrors, lastRxError: stats.lastRxError, info: bus.channelInfo,
}));
await bus.close();
await own.close();
`;

function runInNamespace(group: string, toPython: object[], fromPython: object[]) {
  const script = canwireSide(group, pythonPeers().python, toPython, fromPython);
  const run = spawnSync(
    "unshare",
    ["-n", "sh", "-c", `${setup[group]} && exec "$0" --input-type=module -e "$1"`, process.execPath, script],
    {
      encoding: "utf8",
      timeout: 40_000,
    },
  );
  if (run.status !== 0) throw new Error(`namespace run failed (${run.status ?? run.signal}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "");
}

const toPython = [
  { id: 0x123, data: [0xde, 0xad, 0xbe, 0xef] },
  { id: 0x1abcdef0, extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8] },
  { id: 0x7ff, remote: true, dlc: 3 },
  { id: 0x4, extended: true, error: true, data: [0, 4, 0, 0, 0, 0, 0, 0] },
  { id: 0x42, fd: true, bitrateSwitch: true, errorStateIndicator: true, data: Array.from({ length: 64 }, (_, i) => i) },
];
const pyBase = {
  is_extended_id: false,
  is_remote_frame: false,
  is_error_frame: false,
  is_fd: false,
  bitrate_switch: false,
  error_state_indicator: false,
};
const pythonGets = [
  { ...pyBase, arbitration_id: 0x123, dlc: 4, data: [0xde, 0xad, 0xbe, 0xef] },
  { ...pyBase, arbitration_id: 0x1abcdef0, is_extended_id: true, dlc: 8, data: [1, 2, 3, 4, 5, 6, 7, 8] },
  { ...pyBase, arbitration_id: 0x7ff, is_remote_frame: true, dlc: 3, data: [] },
  { ...pyBase, arbitration_id: 0x4, is_extended_id: true, is_error_frame: true, dlc: 8, data: [0, 4, 0, 0, 0, 0, 0, 0] },
  {
    ...pyBase,
    arbitration_id: 0x42,
    is_fd: true,
    bitrate_switch: true,
    error_state_indicator: true,
    dlc: 64,
    data: Array.from({ length: 64 }, (_, i) => i),
  },
];
const fromPython = [
  { arbitration_id: 0x321, is_extended_id: false, data: [9, 8, 7] },
  { arbitration_id: 0x18daf110, is_extended_id: true, data: [] },
  { arbitration_id: 0x100, is_extended_id: false, is_remote_frame: true, dlc: 8 },
  { arbitration_id: 0x7e8, is_extended_id: false, is_fd: true, bitrate_switch: true, data: Array.from({ length: 12 }, (_, i) => 0xa0 + i) },
];
const base = { extended: false, remote: false, error: false, fd: false, brs: false, esi: false, isRx: true };
const canwireGets = [
  { ...base, id: 0x321, dlc: 3, data: [9, 8, 7] },
  { ...base, id: 0x18daf110, extended: true, dlc: 0, data: [] },
  { ...base, id: 0x100, remote: true, dlc: 8, data: [] },
  { ...base, id: 0x7e8, fd: true, brs: true, dlc: 12, data: Array.from({ length: 12 }, (_, i) => 0xa0 + i) },
];

describe.skipIf(skip)("udp_multicast against python-can 4.6 in a network namespace", () => {
  for (const [family, group] of [
    ["IPv4", V4],
    ["IPv6", V6],
  ] as const) {
    it(`${family} ${group}: exact frames both ways, own frames only when asked, junk counted`, () => {
      const r = runInNamespace(group, toPython, fromPython);
      expect(r.fromPeer).toEqual(pythonGets);
      expect(r.received).toEqual(canwireGets);
      expect(r.extra).toBe(true);
      // the classic bus took the classic frames of both sides, counted the FD ones it dropped
      expect(r.ownSaw).toEqual([
        ...[0x123, 0x1abcdef0, 0x7ff, 0x4].map((id) => ({ id, isRx: true })),
        ...[0x321, 0x18daf110, 0x100].map((id) => ({ id, isRx: true })),
      ]);
      expect(r.ownStats).toBe(2);
      expect(r.echo).toEqual({ id: 0x55, isRx: false });
      expect(r.seen).toEqual({ id: 0x55, isRx: true });
      expect(r.rxErrors).toBe(1);
      expect(r.lastRxError).toMatch(/^a datagram from .* that is no valid message: /);
      expect(r.info).toContain(`udp_multicast group ${group} port 43113 hop limit 1`);
    });
  }

  it("canwire log -i udp_multicast -o x.db records what python-can sends, as python-can's SqliteReader reads it", () => {
    const path = join(mkdtempSync(join(tmpdir(), "canwire-udp-log-")), "bus.db");
    const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
    const sender = `
import can, time
bus = can.Bus(interface="udp_multicast", channel="${V4}")
for i in range(3):
    bus.send(can.Message(arbitration_id=0x700 + i, is_extended_id=False, data=[i, 0xAA]))
bus.send(can.Message(arbitration_id=0x1F00, is_extended_id=True, is_fd=True, data=bytes(range(16))))
bus.shutdown()`;
    const run = spawnSync(
      "unshare",
      [
        "-n",
        "sh",
        "-c",
        `${setup[V4]} && "$0" "$1" log -i udp_multicast -c ${V4} --duration-ms 4000 -o "$2" & ` +
          // the log file exists once the bus has joined the group (bounded wait)
          `for i in $(seq 200); do [ -e "$2" ] && break; sleep 0.05; done; "$3" -c "$4"; wait`,
        process.execPath,
        cli,
        path,
        pythonPeers().python,
        sender,
      ],
      { encoding: "utf8", timeout: 40_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const rows = spawnSync(
      pythonPeers().python,
      [
        "-c",
        `import can, json\nprint(json.dumps([[m.arbitration_id, m.is_extended_id, m.dlc, list(m.data)] for m in can.SqliteReader("${path}")]))`,
      ],
      { encoding: "utf8" },
    );
    expect(JSON.parse(rows.stdout)).toEqual([
      [0x700, false, 2, [0, 0xaa]],
      [0x701, false, 2, [1, 0xaa]],
      [0x702, false, 2, [2, 0xaa]],
      [0x1f00, true, 16, Array.from({ length: 16 }, (_, i) => i)],
    ]);
  });
});
