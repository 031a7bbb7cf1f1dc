/**
 * `canwire serve`: a Jumpstarter exporter for the buses and ISO-TP stacks of
 * an `ExporterConfig`, until SIGINT or SIGTERM.
 *
 * @module
 * @internal
 */
import { readFile } from "node:fs/promises";
import { serveExporter } from "../exporter.js";
import { parse, UsageError } from "./args.js";
import { writeOut } from "./output.js";
import { serveSocketcandBeside, serveSocketcandCommand } from "./serve-socketcand.js";

export const serveUsage = `usage: canwire serve --config FILE [--listen HOST:PORT | --unix PATH]
                     [--passphrase P] [--tls-cert CERT --tls-key KEY] [--read-only]

Serves the export: entries of a Jumpstarter ExporterConfig (Can, IsoTpPython,
IsoTpSocket) as jumpstarter.v1.ExporterService, so Python CanClient and
IsoTpClient drive them:
  jmp shell --tls-grpc 127.0.0.1:PORT --tls-grpc-insecure -- python3 test.py
Prints "listening on ADDRESS", then one line per client; runs until SIGINT/SIGTERM.
An address other than loopback without TLS or passphrase prints a warning on stderr.

      --config FILE        the ExporterConfig (YAML)
      --listen HOST:PORT   TCP address (default 127.0.0.1, a free port); another
                           address than loopback warns without TLS or passphrase
      --unix PATH          a Unix socket (created 0600) instead of TCP
      --passphrase P       every call must carry it (jmp shell --passphrase P)
      --tls-cert CERT      PEM certificate chain, with --tls-key: serve TLS
      --tls-key KEY        PEM private key
      --read-only          refuse sends, periodic tasks, state changes, flush and
                           shutdown (PERMISSION_DENIED); receiving works
  -h, --help               show this help

canwire serve --socketcand [-i IFACE -c CHANNEL]... serves buses over the
socketcand protocol instead (python-can, SavvyCAN, Kayak): canwire serve --socketcand --help
With --config, --socketcand serves the config's Can entries over socketcand too,
beside the Jumpstarter endpoint, at --socketcand-listen HOST:PORT (default
127.0.0.1:29536); clients open them by their export names.`;

const spec = {
  config: { type: "string" },
  listen: { type: "string" },
  unix: { type: "string" },
  passphrase: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "read-only": { type: "boolean", default: false },
  socketcand: { type: "boolean", default: false },
  "socketcand-listen": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

export async function serve(argv: string[]): Promise<number> {
  const withConfig = argv.some((a) => a === "--config" || a.startsWith("--config="));
  if (argv.includes("--socketcand") && !withConfig) return serveSocketcandCommand(argv.filter((a) => a !== "--socketcand"));
  const { values } = parse(argv, spec, false);
  if (values.help) {
    console.log(serveUsage);
    return 0;
  }
  if (values.config === undefined) throw new UsageError("--config FILE is required");
  if (values.listen !== undefined && values.unix !== undefined) throw new UsageError("--listen and --unix exclude each other");
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  let config: string;
  try {
    config = await readFile(values.config, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read --config ${values.config}: ${(error as Error).message}`);
  }
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  // Never removed: a second signal during or after close must not kill the
  // process before the socket file is removed and the exit code set (signal
  // listeners do not keep Node alive).
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const exporter = await serveExporter(config, {
    listen: values.listen,
    unix: values.unix,
    passphrase: values.passphrase,
    tlsCert: values["tls-cert"],
    tlsKey: values["tls-key"],
    readOnly: values["read-only"],
    onClient: (address) => void writeOut(`client connected from ${address}\n`),
  });
  try {
    const socketcand = values.socketcand ? await serveSocketcandBeside(exporter.exports, values["socketcand-listen"]) : undefined;
    try {
      await writeOut(`listening on ${exporter.address}\n`);
      await stopped;
    } finally {
      await socketcand?.close();
    }
  } finally {
    await exporter.close();
  }
  return 0;
}
