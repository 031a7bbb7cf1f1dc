#!/usr/bin/env node
/**
 * The `canwire` command.
 *
 * @module
 * @internal
 */
import { CanError } from "../errors.js";
import { ExitCode, UsageError } from "./args.js";
import { convert, convertUsage } from "./convert.js";
import { demo, demoUsage } from "./demo.js";
import { dump, dumpUsage } from "./dump.js";
import { gen, genUsage } from "./gen.js";
import { isotp, isotpUsage } from "./isotp.js";
import { link, linkUsage } from "./link.js";
import { log, logUsage } from "./log.js";
import { play, playUsage } from "./play.js";
import { send, sendUsage } from "./send.js";
import { serve, serveUsage } from "./serve.js";
import { view, viewUsage } from "./view.js";

const commands: Record<string, { run: (argv: string[]) => Promise<number>; usage: string; summary: string }> = {
  send: { run: send, usage: sendUsage, summary: "send frames given in can-utils syntax" },
  dump: { run: dump, usage: dumpUsage, summary: "print received frames, or a log file's, as candump -L lines" },
  log: { run: log, usage: logUsage, summary: "log a bus to files, with rotation" },
  play: { run: play, usage: playUsage, summary: "replay a log file onto a bus with its timing" },
  convert: { run: convert, usage: convertUsage, summary: "convert a log file between BLF, ASC, candump .log, TRC and CSV" },
  gen: { run: gen, usage: genUsage, summary: "generate traffic (like cangen)" },
  isotp: { run: isotp, usage: isotpUsage, summary: "send or receive ISO-TP payloads (like isotpsend/isotprecv)" },
  view: { run: view, usage: viewUsage, summary: "a live table of the bus, one row per id (like can.viewer, cansniffer)" },
  link: { run: link, usage: linkUsage, summary: "show or configure a SocketCAN controller (like ip -details link)" },
  demo: { run: demo, usage: demoUsage, summary: "run a job on the virtual bus and print rates and drops" },
  serve: { run: serve, usage: serveUsage, summary: "serve an ExporterConfig's buses to Jumpstarter clients" },
};

const mainUsage = `usage: canwire COMMAND [OPTIONS]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join("\n")}

Run 'canwire COMMAND --help' for a command's options.
Exit codes: 0 success, 1 failure (a CAN error), 2 bad command line.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(mainUsage);
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  const command = commands[name];
  if (!command) {
    console.error(`canwire: unknown command '${name}'\n\n${mainUsage}`);
    return ExitCode.USAGE;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`canwire ${name}: ${error.message}\n\n${command.usage}`);
      return ExitCode.USAGE;
    }
    if (error instanceof CanError) {
      console.error(`canwire ${name}: ${error.code}: ${error.message}`);
      return ExitCode.FAILURE;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
