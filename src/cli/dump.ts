/**
 * `canwire dump`: prints received frames as `candump -L` lines.
 *
 * @module
 */
import { Bus } from "../bus.js";
import { formatLogLines } from "../frame-text.js";
import { busOptionHelp, busOptionSpec, busOptions, integer, number, parse, parseFilter } from "./args.js";
import { writeOut } from "./output.js";

export const dumpUsage = `usage: canwire dump [-i IFACE] [-c CHANNEL] [--fd] [-n COUNT] [--filter ID:MASK]... [--timeout-ms MS]

Prints one line per received frame in candump -L format:
  (1699999999.123456) vcan0 123#DEADBEEF

  -n, --count COUNT       exit after COUNT frames
      --filter ID:MASK    pass ids with (id ^ ID) & MASK == 0; ID~MASK passes the
                          others; hex, an 8-digit ID means extended; repeatable
      --timeout-ms MS     exit when no frame arrives for MS milliseconds
${busOptionHelp}`;

/** Runs `canwire dump`. */
export async function dump(argv: string[]): Promise<number> {
  const spec = {
    ...busOptionSpec,
    count: { type: "string", short: "n" },
    filter: { type: "string", multiple: true },
    "timeout-ms": { type: "string" },
  } as const;
  const { values } = parse(argv, spec, false);
  if (values.help) {
    console.log(dumpUsage);
    return 0;
  }
  const count = integer("--count", values.count, Infinity);
  const timeoutMs = values["timeout-ms"] === undefined ? undefined : number("--timeout-ms", values["timeout-ms"], 0);
  const filters = (values.filter ?? []).map(parseFilter);
  const options = busOptions(values);
  options.filters = filters;
  await using bus = await Bus.open(options);
  const stop = () => void bus.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    let printed = 0;
    while (printed < count) {
      const max = Math.min(4096, count - printed);
      const batch = await bus.recvBatch(timeoutMs === undefined ? { max } : { max, timeoutMs });
      if (!batch) break;
      if (!(await writeOut(formatLogLines(batch)))) break;
      printed += batch.length;
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return 0;
}
