/**
 * `canwire gen`: generates traffic, like can-utils' cangen.
 *
 * @module
 * @internal
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Bus } from "../bus.js";
import { FD_LENGTHS } from "../dlc.js";
import { Message } from "../message.js";
import { busOptionHelp, busOptionSpec, busOptions, integer, number, parse, UsageError } from "./args.js";

export const genUsage = `usage: canwire gen [-i IFACE] [-c CHANNEL] [--fd] [-n COUNT] [-g GAP_MS] [-I ID] [-L LEN] [-e]

Sends generated frames (random ids, lengths and data unless fixed):
  -n, --count COUNT   stop after COUNT frames (default: run until interrupted)
  -g, --gap GAP_MS    milliseconds between frames (default 200; 0 = as fast as possible,
                      sent in batches of 1000)
  -I, --id ID         fixed id in hex
  -L, --len LEN       fixed data length (FD: 0..8, 12, 16, 20, 24, 32, 48, 64)
  -e, --extended      extended (29-bit) ids
  -b, --brs           FD frames with bit rate switch
${busOptionHelp}`;

/** Small, fast, seedable PRNG so runs can be repeated. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Builds the frame generator for the given options. */
export function frameGenerator(options: {
  fd: boolean;
  extended: boolean;
  brs: boolean;
  id?: number;
  len?: number;
  seed?: number;
}): () => Message {
  const random = xorshift(options.seed ?? 0x2545f491);
  const lengths = options.fd ? FD_LENGTHS : [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const idMax = options.extended ? 0x1fffffff : 0x7ff;
  return () => {
    const len = options.len ?? (lengths[Math.floor(random() * lengths.length)] as number);
    const data = new Uint8Array(len);
    for (let i = 0; i < len; i++) data[i] = Math.floor(random() * 256);
    return new Message({
      id: options.id ?? Math.floor(random() * (idMax + 1)),
      extended: options.extended,
      fd: options.fd,
      bitrateSwitch: options.fd && options.brs,
      data,
    });
  };
}

/** Runs `canwire gen`. */
export async function gen(argv: string[]): Promise<number> {
  const spec = {
    ...busOptionSpec,
    count: { type: "string", short: "n" },
    gap: { type: "string", short: "g" },
    id: { type: "string", short: "I" },
    len: { type: "string", short: "L" },
    extended: { type: "boolean", short: "e", default: false },
    brs: { type: "boolean", short: "b", default: false },
  } as const;
  const { values } = parse(argv, spec, false);
  if (values.help) {
    console.log(genUsage);
    return 0;
  }
  const count = integer("--count", values.count, Infinity);
  const gapMs = number("--gap", values.gap, 200);
  let id: number | undefined;
  if (values.id !== undefined) {
    if (!/^[0-9a-fA-F]{1,8}$/.test(values.id)) throw new UsageError(`--id takes a hex id, got '${values.id}'`);
    id = parseInt(values.id, 16);
  }
  const len = values.len === undefined ? undefined : integer("--len", values.len, 0);
  const options = busOptions(values);
  const next = frameGenerator({ fd: options.fd ?? false, extended: values.extended, brs: values.brs, id, len });
  next(); // validates fixed id/len before the bus opens
  await using bus = await Bus.open(options);
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    let sent = 0;
    while (sent < count && !stopped) {
      if (gapMs === 0) {
        const n = Math.min(1000, count - sent);
        sent += await bus.sendBatch(Array.from({ length: n }, next));
        await new Promise<void>((resolve) => setImmediate(resolve));
      } else {
        await bus.send(next());
        sent++;
        if (sent < count) await sleep(gapMs);
      }
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return 0;
}
