/**
 * `canwire convert IN OUT`: converts a log file between formats.
 *
 * @module
 * @internal
 */
import { convertLog } from "../logfile.js";
import { parse, UsageError } from "./args.js";

export const convertUsage = `usage: canwire convert IN OUT [--csv-flavor canwire|python-can] [--level N]
                       [--mf4-time-resolution ns|us]

Converts IN into OUT, each format chosen by its extension: .blf .mf4 .asc
.log .trc .csv, .db (python-can's SQLite table), and .gz after the text ones.
Memory stays constant; progress is shown on a terminal. Lines IN could not
parse are counted on stderr.
      --csv-flavor F   CSV columns: canwire (default, lossless) or python-can
      --level N        compression level 0..9 (BLF zlib, or gzip for .gz);
                       for .mf4 0..2 as python-can's (none, deflate, transposed)
      --mf4-time-resolution R  .mf4 times in ns (default, exact) or us
                       (nearest µs, ties to even: smaller files)
  -h, --help           show this help`;

/** Runs `canwire convert`. */
export async function convert(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      "csv-flavor": { type: "string" },
      level: { type: "string" },
      "mf4-time-resolution": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    true,
  );
  if (values.help) {
    console.log(convertUsage);
    return 0;
  }
  const [input, output, ...extra] = positionals;
  if (input === undefined || output === undefined || extra.length > 0) throw new UsageError("give exactly IN and OUT");
  const flavor = values["csv-flavor"];
  if (flavor !== undefined && flavor !== "canwire" && flavor !== "python-can")
    throw new UsageError(`--csv-flavor is canwire or python-can, got '${flavor}'`);
  const level = values.level === undefined ? undefined : Number(values.level);
  const maxLevel = output.toLowerCase().endsWith(".mf4") ? 2 : 9;
  if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > maxLevel))
    throw new UsageError(`--level is 0..${maxLevel} for '${output}', got '${values.level}'`);
  const tty = process.stderr.isTTY === true;
  const options: Parameters<typeof convertLog>[2] = {};
  if (flavor !== undefined) options.csvFlavor = flavor;
  const resolution = mf4TimeResolution(values["mf4-time-resolution"]);
  if (resolution !== undefined) options.mf4TimeResolution = resolution;
  if (level !== undefined) {
    if (maxLevel === 2) options.mf4Compression = level;
    else {
      options.compressionLevel = level;
      options.gzipLevel = level;
    }
  }
  if (tty) options.onProgress = (n) => process.stderr.write(`\\r${n} frames`);
  const stats = await convertLog(input, output, options);
  if (tty) process.stderr.write("\\n");
  console.error(
    `${stats.frames} frames converted, ${stats.skipped} records skipped, ${stats.unknown} lines unreadable${stats.truncated ? `, input ends early: ${stats.truncated.reason}` : ""}`,
  );
  return 0;
}

/** Checks `--mf4-time-resolution`: ns, us or absent. */
export function mf4TimeResolution(value: string | undefined): "ns" | "us" | undefined {
  if (value === undefined || value === "ns" || value === "us") return value;
  throw new UsageError(`--mf4-time-resolution is ns or us, got '${value}'`);
}
