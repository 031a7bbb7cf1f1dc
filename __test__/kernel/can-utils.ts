/**
 * Helpers of the kernel tier: whether SocketCAN (with vcan0) is here, and
 * can-utils (cansend, candump, cangen) as real peers.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { Bus, type Message } from "../../src/index.js";

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
/** True where SocketCAN works and vcan0 exists (inside `npm run test:kernel`'s guest). */
export const hasAfCan = why === null;
if (!hasAfCan) {
  console.warn(
    `SocketCAN kernel tests skipped (${why}); run them in a qemu guest with: npm run test:kernel`,
  );
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

/** Sends frames with can-utils' cansend, one process per frame, in order. */
export async function cansend(iface: string, ...frames: string[]): Promise<void> {
  for (const frame of frames) await run("cansend", [iface, frame]);
}

/** The kernel's CAN receive registrations (`/proc/net/can/rcvlist_*`), one line each. */
export async function receivers(): Promise<string[]> {
  const lists = await Promise.all(["all", "fil", "inv", "sff", "eff"].map((k) => readFile(`/proc/net/can/rcvlist_${k}`, "utf8").catch(() => "")));
  return lists.flatMap((text) => text.split("\n"));
}

/** Resolves once `ready()` holds (checked every 50 ms); throws "WHAT within N ms" after `timeoutMs`. */
export async function until(what: string, ready: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

/** The raw sockets' registrations on `iface` ("any" for sockets bound to every interface). */
export async function rawReceivers(iface: string): Promise<Set<string>> {
  const line = new RegExp(`^\\s*${iface}\\s.*\\sraw$`);
  return new Set((await receivers()).filter((l) => line.test(l)));
}

/**
 * Waits until a raw socket registration on `iface` appears that is not in
 * `before` (a new socket is bound: it misses no frame from now on). Older
 * sockets may vanish meanwhile, when the GC frees a closed bus.
 */
export async function newRawReceiver(iface: string, before: Set<string>): Promise<void> {
  await until(`no new raw socket on ${iface}`, async () => [...(await rawReceivers(iface))].some((l) => !before.has(l)));
}

/** A running candump -L; `lines()` resolves once it has printed `count` frames. */
export interface Candump {
  lines(): Promise<string[]>;
  process: ChildProcess;
}

/** Starts `candump -L [args] iface[,filters]` and waits until its socket is bound. */
export async function candump(spec: string, count: number, args: string[] = []): Promise<Candump> {
  const iface = spec.split(",")[0] ?? spec;
  const before = await rawReceivers(iface);
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
