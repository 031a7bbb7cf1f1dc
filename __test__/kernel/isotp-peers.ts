/**
 * ISO-TP test helpers for the kernel tier: payloads with checkable bytes, and
 * can-utils' isotpsend / isotprecv (the kernel's can-isotp) as peers.
 */
import { spawn } from "node:child_process";
import { receivers, until } from "./can-utils.js";

/** A payload whose bytes depend on its size, position and a seed. */
export function payload(size: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + size + seed) & 0xff);
}

/** Bytes as isotpsend reads and isotprecv prints them: "0A 1B ...". */
export function hex(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
}

/** Sends one PDU with `isotpsend ARGS IFACE` (the payload as hex on stdin); rejects if it fails. */
export function isotpsend(iface: string, args: string[], data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("isotpsend", [...args, iface], { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`isotpsend exited ${code}: ${err}`))));
    child.stdin.end(`${hex(data)}\n`);
  });
}

/** Waits until an ISO-TP socket receives `rxIdHex` on `iface` (ident "isotp" in the receive lists). */
export function isoTpBound(iface: string, rxIdHex: string): Promise<void> {
  const line = new RegExp(`^\\s*${iface}\\s+0*${rxIdHex}\\s.*\\sisotp$`, "i");
  return until(() => receivers().some((l) => line.test(l)), 20_000);
}

/** A running `isotprecv -l`; `next()` resolves the next payload it printed. */
export interface IsoTpRecv {
  next(timeoutMs?: number): Promise<Uint8Array>;
  stop(): void;
}

/**
 * Starts `isotprecv -l ARGS IFACE` (line-buffered through stdbuf) and waits
 * until it is bound (ARGS must hold `-d RXID`). isotprecv prints payloads
 * below 5000 bytes only.
 */
export async function isotprecv(iface: string, args: string[]): Promise<IsoTpRecv> {
  const child = spawn("stdbuf", ["-oL", "isotprecv", "-l", ...args, iface], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  let buffered = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    buffered += d;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  await isoTpBound(iface, args[args.indexOf("-d") + 1]!);
  return {
    next(timeoutMs = 15_000) {
      const line = lines.shift();
      const text =
        line !== undefined
          ? Promise.resolve(line)
          : new Promise<string>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`isotprecv printed nothing within ${timeoutMs} ms`)), timeoutMs);
              waiters.push((l) => {
                clearTimeout(timer);
                resolve(l);
              });
            });
      return text.then((l) => Uint8Array.from(l.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16)));
    },
    stop() {
      child.kill();
    },
  };
}
