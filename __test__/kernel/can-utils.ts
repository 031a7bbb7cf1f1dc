/**
 * Helpers of the kernel tier: whether SocketCAN (with vcan0) is here, and
 * can-utils (cansend, candump, cangen) as real peers.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { Bus, type Message } from "../../src/index.js";
import { skipWithout, strictPrerequisites } from "../prerequisites.js";

const run = promisify(execFile);

async function probe(): Promise<string | null> {
  try {
    const bus = await Bus.open({ interface: "socketcan", channel: "vcan0" });
    await bus.close();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const why = await probe();
/**
 * True where SocketCAN works and vcan0 exists (inside `npm run test:kernel`'s
 * guest). A host without SocketCAN skips the kernel specs, also on CI; inside
 * the guest (`CANWIRE_KERNEL_TIER=1`) a missing SocketCAN fails under `CI=true`.
 */
export const hasAfCan = why === null;
if (!hasAfCan) {
  skipWithout(
    `SocketCAN with vcan0 (${why})`,
    false,
    "run the kernel specs in a qemu guest with: npm run test:kernel",
    process.env.CANWIRE_KERNEL_TIER === "1" && strictPrerequisites(),
  );
}

/** Sends frames with can-utils' cansend, one process per frame, in order. */
export async function cansend(iface: string, ...frames: string[]): Promise<void> {
  for (const frame of frames) await run("cansend", [iface, frame]);
}

/** A running candump -L; `lines()` resolves once it has printed `count` frames. */
export interface Candump {
  lines(): Promise<string[]>;
  process: ChildProcess;
}

/** Starts `candump -L [args] iface[,filters]` and waits until its socket is bound. */
export async function candump(spec: string, count: number, args: string[] = []): Promise<Candump> {
  const iface = spec.split(",")[0] ?? spec;
  const before = rawReceivers(iface);
  const child = spawn("candump", ["-L", "-n", String(count), ...args, spec], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const done = new Promise<string[]>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => resolve(out.split("\n").filter(Boolean)));
  });
  await newRawReceiver(iface, before);
  return { lines: () => done, process: child };
}

/** The kernel's CAN receive registrations (`/proc/net/can/rcvlist_*`), one line each. */
export function receivers(): string[] {
  return ["all", "fil", "inv", "sff", "eff"].flatMap((k) => {
    try {
      return readFileSync(`/proc/net/can/rcvlist_${k}`, "utf8").split("\n");
    } catch {
      return [];
    }
  });
}

/** The raw sockets' registrations on `iface` ("any" for sockets bound to every interface). */
export function rawReceivers(iface: string): Set<string> {
  const line = new RegExp(`^\\s*${iface}\\s.*\\sraw$`);
  return new Set(receivers().filter((l) => line.test(l)));
}

/**
 * Waits until a raw socket registration on `iface` appears that is not in
 * `before`: a new socket is bound and misses no frame from now on (older
 * sockets may vanish meanwhile, when the GC frees a closed bus).
 */
export async function newRawReceiver(iface: string, before: Set<string>): Promise<void> {
  await until(() => [...rawReceivers(iface)].some((l) => !before.has(l)), 20_000);
}

/**
 * Creates and brings up a CAN FD capable vcan interface of the spec's own, so
 * its traffic neither disturbs nor sees other specs on vcan0/vcan1 (the guest
 * runs as root). Remove it with {@link removeInterface} when done: other specs
 * list the interfaces.
 */
export async function ownInterface(name: string): Promise<string> {
  await run("ip", ["link", "add", "dev", name, "type", "vcan"]).catch(() => undefined); // already there
  await run("ip", ["link", "set", name, "mtu", "72"]);
  await run("ip", ["link", "set", name, "up"]);
  return name;
}

/** Deletes an interface made by {@link ownInterface}. */
export async function removeInterface(name: string): Promise<void> {
  if (name) await run("ip", ["link", "del", "dev", name]).catch(() => undefined);
}

/** A running `candump -L` known to be listening; `stop()` ends it and returns its lines. */
export interface ListeningCandump {
  stop(): Promise<string[]>;
}

const MARKER = "7FE#CA";

/**
 * Starts `candump -L iface` and returns once it is listening: it has printed a
 * marker frame (7FE#CA) sent on `iface` after it started. Unlike a fixed
 * settle time this holds however slow the guest is. `stop()` waits `graceMs`,
 * stops candump and returns its lines without the marker's.
 */
export async function listeningCandump(iface: string, graceMs = 100): Promise<ListeningCandump> {
  const child = spawn("candump", ["-L", iface], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const closed = new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => resolve());
  });
  const marker = await Bus.open({ interface: "socketcan", channel: iface });
  try {
    const deadline = Date.now() + 20_000;
    while (!out.includes(MARKER)) {
      if (Date.now() > deadline) throw new Error(`candump on ${iface} printed nothing in 20 s`);
      await marker.send({ id: 0x7fe, data: [0xca] });
      await settle(100);
    }
  } finally {
    await marker.close();
  }
  return {
    async stop() {
      await settle(graceMs);
      child.kill("SIGINT");
      await closed;
      return out.split("\n").filter((line) => line && !line.endsWith(MARKER));
    },
  };
}

/** Resolves once `done()` holds, polling; fails after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await settle(20);
  }
}

/**
 * The CAN_RAW sockets the kernel lists in /proc/net/can/rcvlist_all now, by
 * device and `userdata` column (the socket's hashed address). A set, not a
 * count: a socket another test is still closing would otherwise hide a new one.
 */
export function rawSockets(): Set<string> {
  const sockets = new Set<string>();
  for (const line of readFileSync("/proc/net/can/rcvlist_all", "utf8").split("\n")) {
    if (!/ raw\s*$/.test(line)) continue;
    // device, can_id, can_mask, function, userdata, matches, ident; a new
    // socket may reuse a just-freed one's address, so the device is part of the key
    const fields = line.trim().split(/\s+/);
    sockets.add(`${fields[0]} ${fields[4]}`);
  }
  return sockets;
}

/**
 * Resolves once a CAN_RAW socket exists that was not in `before` (a child
 * process, e.g. `canwire dump`, has bound its socket), then lets it settle
 * briefly. Process start-up in the emulated guest can take seconds under load.
 */
export async function socketBound(before: ReadonlySet<string>, timeoutMs = 25_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  const bound = () => [...rawSockets()].some((socket) => !before.has(socket));
  while (!bound()) {
    if (Date.now() > end) throw new Error(`no new CAN_RAW socket within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await settle(200);
}

/** Gives a freshly started peer time to bind its socket (the guest is slow). */
export function settle(ms = 400): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs cangen with arguments; resolves when it exits. */
export async function cangen(iface: string, args: string[]): Promise<void> {
  await run("cangen", [iface, ...args]);
}

/** A candump -L line without its timestamp. */
export function withoutTime(line: string): string {
  return line.replace(/^\(\d+\.\d+\) /, "");
}

/** Receives exactly n messages or fails. */
export async function recvN(bus: Bus, n: number, timeoutMs = 5000): Promise<Message[]> {
  const out: Message[] = [];
  while (out.length < n) {
    const m = await bus.recv({ timeoutMs });
    if (!m) throw new Error(`timed out after ${out.length} of ${n} messages`);
    out.push(m);
  }
  return out;
}

/** Resolves null if nothing arrives within ms. */
export async function nothingWithin(bus: Bus, ms = 300): Promise<Message | null> {
  return bus.recv({ timeoutMs: ms });
}
