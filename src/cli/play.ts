/**
 * `canwire play FILE`: replays a log file onto a bus with its timing.
 *
 * @module
 * @internal
 */
import { Bus } from "../bus.js";
import { Player, type PlayerOptions } from "../player.js";
import { busOptionHelp, busOptionSpec, busOptions, number, parse, UsageError } from "./args.js";

export const playUsage = `usage: canwire play FILE [-i IFACE] [-c CHANNEL] [--fd] [--loop N|i] [--ignore-timestamps]
                   [--gap-ms MS] [--skip-ms MS]

Sends the frames of FILE (.blf .mf4 .asc .log .trc .csv .db, text formats also .gz)
with the file's timing, kept by a native thread. Counts go to stderr.
      --loop N|i           play N times, or i for until interrupted
      --ignore-timestamps  send every --gap-ms instead of the file's timing
      --gap-ms MS          smallest gap between frames (default 0.1)
      --skip-ms MS         cut longer pauses to MS (default 60000)
${busOptionHelp}`;

/** Runs `canwire play`. */
export async function play(argv: string[]): Promise<number> {
  const spec = {
    ...busOptionSpec,
    loop: { type: "string", short: "l" },
    "ignore-timestamps": { type: "boolean", default: false },
    "gap-ms": { type: "string" },
    "skip-ms": { type: "string" },
  } as const;
  const { values, positionals } = parse(argv, spec, true);
  if (values.help) {
    console.log(playUsage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("give exactly one FILE");
  const options: PlayerOptions = { ignoreTimestamps: values["ignore-timestamps"] };
  if (values.loop !== undefined) {
    if (values.loop === "i") options.loop = true;
    else {
      const n = Number(values.loop);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--loop takes a count >= 1 or i, got '${values.loop}'`);
      options.loop = n;
    }
  }
  if (values["gap-ms"] !== undefined) options.gapMs = number("--gap-ms", values["gap-ms"], 0.1);
  if (values["skip-ms"] !== undefined) options.skipMs = number("--skip-ms", values["skip-ms"], 60_000);
  await using bus = await Bus.open(busOptions(values));
  const player = Player.start(bus, positionals[0] as string, options);
  const stop = () => void player.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const stats = await player.finished;
    console.error(`${stats.sent} frames sent in ${stats.passes} pass(es), ${stats.sendErrors} refused by the bus`);
    return stats.sendErrors > 0 ? 1 : 0;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
