import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./fixtures/leak-check.mjs", import.meta.url));

interface Counts {
  openBuses: number;
  openReaders: number;
  openWatches: number;
  nativeBuses: number;
  nativeReaders: number;
}

async function leakCheck(...args: string[]): Promise<Record<string, Counts> & { delivered?: number; sent?: number }> {
  const { stdout } = await run(process.execPath, ["--expose-gc", script, ...args], { timeout: 60_000 });
  return JSON.parse(stdout.trim());
}

describe("native object lifetimes (issue 12.11, 12.14)", () => {
  it("opening and closing 300 buses leaves no native bus, reader, queue or watch behind", async () => {
    const { before, after } = await leakCheck("open-close", "300");
    expect(before).toEqual({ openBuses: 0, openReaders: 0, openWatches: 0, nativeBuses: 0, nativeReaders: 0 });
    expect(after).toEqual(before);
  });

  it("unreachable unclosed buses, readers and watches are closed when collected and queue nothing", async () => {
    const { before, opened, after, delivered, sent } = await leakCheck("unreachable");
    expect(before).toEqual({ openBuses: 0, openReaders: 0, openWatches: 0, nativeBuses: 0, nativeReaders: 0 });
    // the sender (1 bus, its own reader) plus 20 buses x (own reader + extra reader + the watch's reader)
    expect(opened).toEqual({ openBuses: 21, openReaders: 61, openWatches: 20, nativeBuses: 21, nativeReaders: 41 });
    expect(after).toEqual({ openBuses: 1, openReaders: 1, openWatches: 0, nativeBuses: 1, nativeReaders: 1 });
    expect([sent, delivered]).toEqual([1000, 0]);
  });
});
