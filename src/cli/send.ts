/**
 * `canwire send`: sends frames given in can-utils syntax.
 *
 * @module
 * @internal
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Bus } from "../bus.js";
import { parseFrame } from "../frame-text.js";
import { busOptionHelp, busOptionSpec, busOptions, integer, number, parse, UsageError } from "./args.js";

export const sendUsage = `usage: canwire send [-i IFACE] [-c CHANNEL] [--fd] FRAME...
       canwire send [-i IFACE] [-c CHANNEL] --period-ms P [--count N | --duration-ms D] FRAME...

Sends each FRAME in order, in can-utils syntax:
  123#DEADBEEF        standard id, data
  1F334455#11         extended id (8 hex digits)
  123#R  123#R3       remote frame (optional requested length)
  123##1DEADBEEF      CAN FD; the digit after ## holds BRS=1, ESI=2
The bus is opened for FD when --fd is given or any FRAME is FD.

With --period-ms the frames are sent round-robin every P ms (fractions allowed)
by the native scheduler, until N frames, D ms, or an interrupt; the counts of
sent and missed slots are printed to stderr at the end.
      --period-ms P       cyclic send period
      --count N           stop after N frames
      --duration-ms D     stop after D ms

${busOptionHelp}`;

/** Runs `canwire send`. */
export async function send(argv: string[]): Promise<number> {
  const spec = {
    ...busOptionSpec,
    "period-ms": { type: "string" },
    count: { type: "string" },
    "duration-ms": { type: "string" },
  } as const;
  const { values, positionals } = parse(argv, spec, true);
  if (values.help) {
    console.log(sendUsage);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("no FRAME given");
  const messages = positionals.map(parseFrame);
  const options = busOptions(values);
  if (messages.some((m) => m.fd)) options.fd = true;
  await using bus = await Bus.open(options);
  if (values["period-ms"] === undefined) {
    if (values.count !== undefined || values["duration-ms"] !== undefined) {
      throw new UsageError("--count and --duration-ms need --period-ms");
    }
    await bus.sendBatch(messages);
    return 0;
  }
  const periodMs = number("--period-ms", values["period-ms"], 0);
  if (periodMs <= 0) throw new UsageError("--period-ms must be greater than 0");
  const periodic: Parameters<Bus["sendPeriodic"]>[1] = { periodMs };
  if (values.count !== undefined) periodic.count = integer("--count", values.count, 0);
  if (values["duration-ms"] !== undefined) periodic.durationMs = number("--duration-ms", values["duration-ms"], 0);
  const task = bus.sendPeriodic(messages, periodic);
  let interrupted = false;
  const stop = () => {
    interrupted = true;
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    while (!interrupted && task.running) await sleep(Math.min(100, Math.max(1, periodMs)));
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  const stats = task.stats();
  task.remove();
  console.error(`sent ${stats.sent}, missed ${stats.missed}, send errors ${stats.sendErrors}`);
  return stats.sendErrors > 0 ? 1 : 0;
}
