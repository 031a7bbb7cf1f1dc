/**
 * `canwire dump`: prints received frames as `candump -L` lines.
 *
 * @module
 */
import { Bus } from "../bus.js";
import { type CanFilter, filtersMatch } from "../filters.js";
import { formatLogLines } from "../frame-text.js";
import { LogReader, type LogReadStats } from "../logfile.js";
import { Flag } from "../record.js";
import { busOptionHelp, busOptionSpec, busOptions, integer, number, parse, parseFilter, UsageError } from "./args.js";
import { writeOut } from "./output.js";

export const dumpUsage = `usage: canwire dump [-i IFACE] [-c CHANNEL] [-n COUNT] [--filter ID:MASK]... [--timeout-ms MS]
       canwire dump FILE [-n COUNT] [--filter ID:MASK]...

Prints one line per received frame in candump -L format:
  (1699999999.123456) vcan0 123#DEADBEEF
With FILE (.blf .mf4 .asc .log .trc .csv .db, text formats also .gz) it prints the
file's frames the same way, so live and file output compare with diff;
lines the file could not parse are counted on stderr. Live dumps receive FD
frames as well as classic ones, as candump does (--fd is implied).

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
  const { values, positionals } = parse(argv, spec, true);
  if (values.help) {
    console.log(dumpUsage);
    return 0;
  }
  const count = integer("--count", values.count, Infinity);
  const timeoutMs = values["timeout-ms"] === undefined ? undefined : number("--timeout-ms", values["timeout-ms"], 0);
  const filters = (values.filter ?? []).map(parseFilter);
  if (positionals.length > 1) throw new UsageError("dump reads one FILE");
  if (positionals[0] !== undefined) return dumpFile(positionals[0], count, filters);
  const options = busOptions(values);
  options.filters = filters;
  options.fd = true; // as candump: a dump shows classic and FD frames alike
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

/**
 * Prints a log file's frames as candump -L lines. A damaged file prints every
 * frame outside the damage, then its typed error ends the command (exit 1).
 */
async function dumpFile(path: string, count: number, filters: CanFilter[]): Promise<number> {
  await using reader = LogReader.open(path);
  try {
    let printed = 0;
    for await (const batch of reader.batches()) {
      // as bus filters do, id filters pass error frames
      const passing =
        filters.length === 0
          ? batch
          : batch.filter(
              (i) => (batch.flags(i) & Flag.ERROR) !== 0 || filtersMatch(filters, batch.id(i), (batch.flags(i) & Flag.EXTENDED) !== 0),
            );
      const take = passing.slice(0, count - printed);
      if (take.length > 0 && !(await writeOut(formatLogLines(take)))) break;
      printed += take.length;
      if (printed >= count) break;
    }
  } finally {
    reportProblems(reader.stats());
  }
  return 0;
}

/** Says on stderr what the file held besides frames: unreadable lines, damage, a cut end. */
function reportProblems(stats: LogReadStats): void {
  if (stats.unknown > 0) {
    const where = stats.issues.filter((i) => !i.skipped).map((i) => i.line);
    console.error(`canwire dump: ${stats.unknown} lines could not be read (first at lines ${where.join(", ")})`);
  }
  if (stats.damaged > 0) {
    const first = stats.damage[0];
    const at = first ? ` (first at byte offset ${first.byteOffset}: ${first.reason})` : "";
    console.error(`canwire dump: ${stats.damaged} damaged stretches skipped, ${stats.damagedBytes} bytes${at}`);
  }
  if (stats.truncated) console.error(`canwire dump: the file ends early (${stats.truncated.reason})`);
}
