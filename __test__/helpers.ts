import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Bus, type BusOptions, CanError } from "../src/index.js";
import { skipWithout } from "./prerequisites.js";

let counter = 0;

/** A channel name no other test uses. */
export function uniqueChannel(prefix = "t"): string {
  return `${prefix}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Opens a sender and a receiver on a fresh virtual channel. */
export async function pair(options: BusOptions = {}): Promise<{ tx: Bus; rx: Bus; channel: string }> {
  const channel = uniqueChannel();
  const tx = await Bus.open({ ...options, channel });
  const rx = await Bus.open({ ...options, channel });
  return { tx, rx, channel };
}

/** Receives exactly n messages or fails after timeoutMs. */
export async function recvN(bus: Bus, n: number, timeoutMs = 2000) {
  const out = [];
  while (out.length < n) {
    const m = await bus.recv({ timeoutMs });
    if (!m) throw new Error(`timed out after ${out.length} of ${n} messages`);
    out.push(m);
  }
  return out;
}

/**
 * The folder of log files written by other tools, ending with a slash:
 * `CANWIRE_FIXTURES`, or `shared/fixtures/python-can` beside the repository
 * (as on CI). `undefined` where neither exists: the specs using it then skip
 * with a warning, or under `CI=true` fail (see {@link skipWithout}).
 */
export function fixturesDir(): string | undefined {
  const dir = process.env.CANWIRE_FIXTURES ?? fileURLToPath(new URL("../../shared/fixtures/python-can/", import.meta.url));
  if (skipWithout(`log fixtures at ${dir}`, existsSync(dir), "set CANWIRE_FIXTURES to the python-can fixtures folder")) {
    return undefined;
  }
  return dir.endsWith("/") ? dir : `${dir}/`;
}

const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

/** Runs the built `canwire` command; resolves its exit code and output. */
export function runCli(args: string[], timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The `[code, message]` of the CanError `work` throws (and anything else it throws, or nothing, fails the check). */
export function codeAndMessageOf(work: () => unknown): [string, string] | unknown {
  try {
    work();
  } catch (error) {
    return error instanceof CanError ? [error.code, error.message] : error;
  }
  return "nothing thrown";
}
