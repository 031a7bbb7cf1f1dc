/**
 * `canwire send`: sends frames given in can-utils syntax.
 *
 * @module
 * @internal
 */
import { Bus } from "../bus.js";
import { parseFrame } from "../frame-text.js";
import { busOptionHelp, busOptionSpec, busOptions, parse, UsageError } from "./args.js";

export const sendUsage = `usage: canwire send [-i IFACE] [-c CHANNEL] [--fd] FRAME...

Sends each FRAME in order, in can-utils syntax:
  123#DEADBEEF        standard id, data
  1F334455#11         extended id (8 hex digits)
  123#R  123#R3       remote frame (optional requested length)
  123##1DEADBEEF      CAN FD; the digit after ## holds BRS=1, ESI=2
The bus is opened for FD when --fd is given or any FRAME is FD.

${busOptionHelp}`;

/** Runs `canwire send`. */
export async function send(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, busOptionSpec, true);
  if (values.help) {
    console.log(sendUsage);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("no FRAME given");
  const messages = positionals.map(parseFrame);
  const options = busOptions(values);
  options.fd = options.fd || messages.some((m) => m.fd);
  await using bus = await Bus.open(options);
  await bus.sendBatch(messages);
  return 0;
}
