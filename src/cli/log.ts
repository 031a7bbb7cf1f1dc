/**
 * `canwire log`: logs a bus to files.
 *
 * @module
 * @internal
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Bus } from "../bus.js";
import { Logger, type LoggerOptions } from "../logger.js";
import { busOptionHelp, busOptionSpec, busOptions, number, parse, parseFilter, UsageError } from "./args.js";
import { mf4TimeResolution } from "./convert.js";

export const logUsage = `usage: canwire log [-i IFACE] [-c CHANNEL] [--fd] -o FILE [--rotate-size SIZE] [--rotate-interval-ms MS]
                  [--duration-ms MS] [--filter ID:MASK]... [--mf4-time-resolution ns|us]

Logs every frame of the bus to FILE (.blf .mf4 .asc .log .trc .csv .db, text
formats also .gz) until interrupted or --duration-ms passes; the file is flushed every
second, so a killed logger loses at most that much. With rotation, files are
named <stem>_<time>_#NNN<ext>. Frames, files and drops are printed to stderr.
  -o, --output FILE          the log file
      --rotate-size SIZE     new file at SIZE bytes (suffixes k, M, G)
      --rotate-interval-ms MS new file every MS
      --duration-ms MS       stop after MS
      --filter ID:MASK       as for dump; repeatable
  -a, --append               add to an existing .blf, .log or .db file
      --mf4-time-resolution R  .mf4 times in ns (default, exact) or us (smaller)
${busOptionHelp}`;

/** Parses "100", "64k", "100M", "2G". */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(text);
  if (!match) throw new UsageError(`bad size '${text}': use a number with an optional k, M or G`);
  const scale = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[(match[2] ?? "").toLowerCase()] ?? 1;
  return Math.round(Number(match[1]) * scale);
}

/** Runs `canwire log`. */
export async function log(argv: string[]): Promise<number> {
  const spec = {
    ...busOptionSpec,
    output: { type: "string", short: "o" },
    "rotate-size": { type: "string" },
    "rotate-interval-ms": { type: "string" },
    "duration-ms": { type: "string" },
    filter: { type: "string", multiple: true },
    append: { type: "boolean", short: "a", default: false },
    "mf4-time-resolution": { type: "string" },
  } as const;
  const { values } = parse(argv, spec, false);
  if (values.help) {
    console.log(logUsage);
    return 0;
  }
  if (values.output === undefined) throw new UsageError("-o FILE is required");
  const options: LoggerOptions = { append: values.append };
  const resolution = mf4TimeResolution(values["mf4-time-resolution"]);
  if (resolution !== undefined) options.mf4TimeResolution = resolution;
  if (values["rotate-size"] !== undefined) options.rotateSizeBytes = parseSize(values["rotate-size"]);
  if (values["rotate-interval-ms"] !== undefined)
    options.rotateIntervalMs = number("--rotate-interval-ms", values["rotate-interval-ms"], 0);
  const durationMs = values["duration-ms"] === undefined ? undefined : number("--duration-ms", values["duration-ms"], 0);
  const busOpts = busOptions(values);
  busOpts.filters = (values.filter ?? []).map(parseFilter);
  await using bus = await Bus.open(busOpts);
  const logger = Logger.start(bus, values.output, options);
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const end = durationMs === undefined ? Infinity : Date.now() + durationMs;
  try {
    while (!stop && Date.now() < end) await sleep(Math.min(100, Math.max(1, end - Date.now())));
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const stats = await logger.stop();
  console.error(`${stats.frames} frames in ${stats.files.length} file(s), ${stats.dropped} dropped: ${stats.files.join(", ")}`);
  return 0;
}
