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

interface LeakReport {
  before: Counts;
  after: Counts;
  opened?: Counts;
  delivered?: number[];
  sent?: number;
}

async function leakCheck(...args: string[]): Promise<LeakReport> {
  const { stdout } = await run(process.execPath, ["--expose-gc", script, ...args], { timeout: 60_000 });
  return JSON.parse(stdout.trim());
}

describe("native object lifetimes (issue 12.11, 12.14)", () => {
  it("opening and closing 300 buses leaves no native bus, reader, queue or watch behind", async () => {
    const { before, after } = await leakCheck("open-close", "300");
    expect(before).toEqual({ openBuses: 0, openReaders: 0, openWatches: 0, nativeBuses: 0, nativeReaders: 0 });
    expect(after).toEqual(before);
  });

  it("unreachable unclosed buses, readers, watches and ISO-TP stacks are closed when collected and queue nothing", async () => {
    const { before, opened, after, delivered, sent } = await leakCheck("unreachable");
    expect(before).toEqual({ openBuses: 0, openReaders: 0, openWatches: 0, nativeBuses: 0, nativeReaders: 0 });
    // sender and keeper (a bus and its own reader each); 20 buses x (own reader,
    // extra reader, the watch's reader); the keeper's 10 watches (a reader each),
    // 5 readers and one ISO-TP stack (a reader)
    expect(opened).toEqual({ openBuses: 22, openReaders: 78, openWatches: 30, nativeBuses: 22, nativeReaders: 47 });
    expect(after).toEqual({ openBuses: 2, openReaders: 2, openWatches: 0, nativeBuses: 2, nativeReaders: 2 });
    // the keeper's own reader got every frame; nothing else of it still receives
    expect(sent).toBe(1000);
    expect(delivered).toEqual([1000]);
  });
});
