/**
 * `canwire serve --socketcand`: serves buses over the socketcand protocol
 * until SIGINT/SIGTERM; and the `-i socketcand -c BUS@HOST[:PORT]` channel
 * syntax every bus-using command accepts.
 *
 * @module
 */
import type { BusOptions, InterfaceName } from "../bus.js";
import { Bus } from "../bus.js";
import { type SocketcandServer, type SocketcandServerOptions, serveSocketcand } from "../socketcand.js";
import { integer, parse, UsageError } from "./args.js";

export const serveSocketcandUsage = `usage: canwire serve --socketcand [--listen HOST:PORT | --unix PATH] [-i IFACE -c CHANNEL]...
                                  [--read-only] [--allow-reconfigure] [--allow ADDRESS[/PREFIX]]... [--max-clients N]
                                  [--error-frames] [--fd] [--idle-timeout-ms MS] [--beacon]

Serves buses over the socketcand protocol (python-can's interface="socketcand",
SavvyCAN, Kayak, socketcandcl) until interrupted. Each -c names a bus clients
may open (the allowlist, like socketcand's -i); each -i gives the interface of
the -c at the same position (one -i applies to every -c). Default: the virtual
channel vcan0 as "vcan0".

  -i, --interface IFACE   virtual (default), socketcan or socketcand
  -c, --channel CHANNEL   the bus to serve, also the name clients open
      --listen HOST:PORT  TCP address (default 127.0.0.1:29536); beyond loopback
                          a warning: socketcand has no authentication or encryption
      --unix PATH         listen on a Unix socket (mode 0600) instead
      --read-only         refuse send, add, update, sendpdu
      --allow-reconfigure apply clients' '< BUS B ... >' / '< BUS C ... >' to a
                          SocketCAN controller (needs CAP_NET_ADMIN; refused by default)
      --allow RANGE       accept TCP clients only from these addresses; repeatable
      --max-clients N     clients at once (default 32)
      --error-frames      deliver error frames in raw mode (socketcand -e)
      --fd                CAN FD in raw mode (fdframe/sendfd of socketcand's FD branch)
      --idle-timeout-ms MS  close clients silent this long (default: never)
      --beacon            broadcast the discovery beacon (UDP 42000, every 3 s)
                          advertising the --listen address (not 0.0.0.0)
  -h, --help              show this help`;

/** `HOST:PORT`, `[V6]:PORT` or `HOST` (port 29536). */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(text);
  if (!match) throw new UsageError(`${what} must be HOST[:PORT] or [IPV6]:PORT, got '${text}'`);
  const host = match[1] ?? match[2] ?? "";
  const port = match[3] === undefined ? 29536 : Number(match[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${what}: port must be 0..65535, got '${match[3]}'`);
  return { host, port };
}

/** `-i socketcand -c BUS@HOST[:PORT]`: the bus name and where its server is (`BUS` alone: only the name). */
export function socketcandChannel(text: string): Pick<BusOptions, "channel" | "host" | "port"> {
  const at = text.lastIndexOf("@");
  if (at < 0) return { channel: text };
  if (at === 0) throw new UsageError(`-c ${text}: a socketcand channel is BUS@HOST[:PORT], e.g. vcan0@192.168.1.5:29536`);
  return { channel: text.slice(0, at), ...parseHostPort(text.slice(at + 1), "-c") };
}

/** Runs `canwire serve --socketcand` (its argv without `--socketcand`). */
export async function serveSocketcandCommand(argv: string[]): Promise<number> {
  const spec = {
    interface: { type: "string", short: "i", multiple: true },
    channel: { type: "string", short: "c", multiple: true },
    listen: { type: "string" },
    unix: { type: "string" },
    "read-only": { type: "boolean", default: false },
    "allow-reconfigure": { type: "boolean", default: false },
    allow: { type: "string", multiple: true },
    "max-clients": { type: "string" },
    "error-frames": { type: "boolean", default: false },
    fd: { type: "boolean", default: false },
    "idle-timeout-ms": { type: "string" },
    beacon: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  } as const;
  const { values } = parse(argv, spec, false);
  if (values.help) {
    console.log(serveSocketcandUsage);
    return 0;
  }
  if (values.listen !== undefined && values.unix !== undefined) throw new UsageError("give --listen or --unix, not both");
  const channels = values.channel ?? ["vcan0"];
  const interfaces = values.interface ?? ["virtual"];
  if (interfaces.length !== 1 && interfaces.length !== channels.length) {
    throw new UsageError(`give one -i, or one -i per -c (${channels.length} -c, ${interfaces.length} -i)`);
  }
  const buses: Record<string, BusOptions> = {};
  channels.forEach((channel, i) => {
    const iface = interfaces.length === 1 ? interfaces[0] : interfaces[i];
    if (iface !== "virtual" && iface !== "socketcan" && iface !== "socketcand") {
      throw new UsageError(`unknown interface '${iface}': use virtual, socketcan or socketcand`);
    }
    const options: BusOptions =
      iface === "socketcand"
        ? { interface: "socketcand", ...socketcandChannel(channel), fd: values.fd }
        : { interface: iface as InterfaceName, channel, fd: values.fd };
    const name = options.channel ?? channel;
    if (name in buses) throw new UsageError(`bus '${name}' is given twice`);
    buses[name] = options;
  });
  const options: SocketcandServerOptions = {
    readOnly: values["read-only"],
    allowReconfigure: values["allow-reconfigure"],
    errorFrames: values["error-frames"],
    fd: values.fd,
    beacon: values.beacon,
  };
  if (values.unix !== undefined) options.unixPath = values.unix;
  if (values.listen !== undefined) Object.assign(options, parseHostPort(values.listen, "--listen"));
  if (values.allow !== undefined) options.allowedClients = values.allow;
  if (values["max-clients"] !== undefined) options.maxClients = integer("--max-clients", values["max-clients"], 32);
  if (values["idle-timeout-ms"] !== undefined) options.idleTimeoutMs = integer("--idle-timeout-ms", values["idle-timeout-ms"], 0);
  // the warning goes to stderr below, not as a process warning
  process.removeAllListeners("warning");
  const server = await serveSocketcand(buses, options);
  for (const warning of server.warnings) console.error(`canwire serve --socketcand: warning: ${warning}`);
  const where = server.address.path ?? `${server.address.host}:${server.address.port}`;
  console.error(`canwire serve --socketcand: serving ${Object.keys(buses).join(", ")} on ${where}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  const stats = server.stats();
  await server.close();
  console.error(
    `canwire serve --socketcand: ${stats.connections} connection(s), ${stats.droppedFrames} frame(s) dropped for slow clients, ${stats.refused} refused`,
  );
  return 0;
}

/**
 * `canwire serve --config FILE --socketcand`: serves the buses of a running
 * exporter over socketcand too, by their export names, at `listen`
 * (default 127.0.0.1:29536). ISO-TP entries are not buses and stay Jumpstarter-only.
 */
export async function serveSocketcandBeside(
  exports: Readonly<Record<string, unknown>>,
  listen: string | undefined,
): Promise<SocketcandServer> {
  const buses: Record<string, Bus> = {};
  for (const [name, object] of Object.entries(exports)) if (object instanceof Bus) buses[name] = object;
  if (Object.keys(buses).length === 0) throw new UsageError("--socketcand: the configuration exports no Can entry to serve");
  // a warning goes out as a process warning (stderr)
  const server = await serveSocketcand(buses, listen === undefined ? {} : parseHostPort(listen, "--socketcand-listen"));
  const where = server.address.path ?? `${server.address.host}:${server.address.port}`;
  console.error(`canwire serve --socketcand: serving ${Object.keys(buses).join(", ")} on ${where}`);
  return server;
}
