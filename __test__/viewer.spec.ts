import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { terminalKeys } from "../src/cli/view.js";
import { decodeFields, parseDecoder } from "../src/cli/view-decode.js";
import { MAX_VIEW_ROWS, ViewTable } from "../src/cli/view-table.js";
import { Message } from "../src/index.js";
import { runCli } from "./helpers.js";
import { skipWithoutPythonPeers } from "./peers/index.js";
import { skipWithout } from "./prerequisites.js";
import { runPythonCan } from "./python-can.js";

/** `-d` specs and payloads (hex), decoded by canwire and by python-can 4.6's viewer. */
const decodeCases: [string, string][] = [
  ["100:<BHL", "01e8030a000000"],
  ["101:<BHL:1:10.0:100.0", "07e8030a000000"],
  ["102:>hhf", "fff6000a3fc00000"],
  ["103:<bBhH:2:2.0:-3:1", "f9f9f9ff0500"],
  ["104:<q:7", "9cffffffffffffff"],
  ["105:<Q", "ffffffffffffffff"],
  ["106:<?c3s", "01275c2241"],
  ["107:<?c3s", "0022414243"],
  ["108:<e2x", "003c0000"],
  ["109:BH", "01003412"],
  ["10a:<d:1000", "000000000088c340"],
  ["10b:<HB", "0102"],
  ["10c:<HB:1", "e8030a"],
  ["10d:<?:1", "02"],
  ["10e:=l", "feffffff"],
  ["10f:@l", "feffffffffffffff"],
  ["110:<ff", "0000807f0000c0ff"],
  ["111:>f:3", "c0200000"],
  ["112:<2h3x", "0100ffff000000"],
];

describe.skipIf(skipWithoutPythonPeers())("canwire view -d, against python-can 4.6's viewer", () => {
  it("decodes and prints every field as python-can's viewer does", () => {
    // python-can's own parsing of -d and its unpack_data, printed as its draw_can_bus_message prints them
    const code = `import struct
from can.viewer import CanViewer, _parse_viewer_args
result = []
for spec, payload in data:
    _, structs = _parse_viewer_args(["-i", "virtual", "-d", spec])
    key = next(iter(structs))
    try:
        values = CanViewer.unpack_data(key, structs, bytes.fromhex(payload))
        result.append(" ".join(f"{x:.6f}" if isinstance(x, float) else str(x) for x in values))
    except (ValueError, struct.error):
        result.append(None)`;
    const python = runPythonCan(code, decodeCases) as (string | null)[];
    const ours = decodeCases.map(([spec, payload]) => {
      const decoder = parseDecoder(spec);
      if (typeof decoder === "string") return decoder;
      return decodeFields(decoder, Buffer.from(payload, "hex")) ?? null;
    });
    expect(decodeCases.map(([spec], i) => [spec, ours[i]])).toEqual(decodeCases.map(([spec], i) => [spec, python[i]]));
    // what the peer printed, for the cases that show the rules
    expect(python.slice(0, 4)).toEqual(["1 1000 10", "7 100.000000 0.100000", "-10 10 1.500000", "-4 124.500000 2 5"]);
    expect(python[11]).toBeNull();
  });

  it.each([
    ["zz:<B", "'zz:<B': the ID before ':' is a hex number, e.g. 100:<BHL"],
    ["100", "'100': give ID:FORMAT, e.g. 100:<BHL"],
    ["100:<Bk", "'100:<Bk': 'k' is not a struct format character in standard mode"],
    ["100:<B:x", "'100:<B:x': scale 'x' is not a number"],
    ["100:<B:0", "'100:<B:0': scale 1 is 0 (values are divided by it)"],
    ["100:<Bs:1:2", "'100:<Bs:1:2': value 2 ('s') is bytes and cannot be scaled"],
  ])("refuses -d %s", (spec, message) => {
    expect(parseDecoder(spec)).toBe(message);
  });
});

describe("the view's table", () => {
  it("keeps at most MAX_VIEW_ROWS ids and counts the frames of the ids past them; a clear starts over", () => {
    const table = new ViewTable();
    for (let id = 0; id < MAX_VIEW_ROWS + 2; id++) table.add(new Message({ id, extended: true }));
    table.add(new Message({ id: 0, extended: true })); // a known id still counts in its row
    expect([table.rows().length, table.untracked, table.rows()[0]?.count]).toEqual([MAX_VIEW_ROWS, 2, 2]);
    table.clear();
    table.add(new Message({ id: 0x7ff }));
    expect([table.rows().length, table.untracked]).toEqual([1, 0]);
  });
});

describe("the view's keys", () => {
  it("splits terminal input into keys: arrow sequences whole, a lone ESC, characters", () => {
    expect(terminalKeys("\x1b[B\x1b[B\x1bOAq \x1b")).toEqual(["\x1b[B", "\x1b[B", "\x1bOA", "q", " ", "\x1b"]);
    expect(terminalKeys("\x1b[1;5Ac")).toEqual(["\x1b[1;5A", "c"]);
  });
});

describe("canwire view outside a terminal", () => {
  it("refuses to run without a TTY, and refuses a bad -d first, both as usage errors (exit 2)", async () => {
    const noTty = await runCli(["view", "-c", "x"]);
    expect([noTty.code, noTty.stderr.split("\n")[0]]).toEqual([
      2,
      "canwire view: canwire view draws on a terminal: run it with stdin and stdout on a TTY (use canwire dump for a pipe)",
    ]);
    const badDecode = await runCli(["view", "-d", "100:<Bk"]);
    expect([badDecode.code, badDecode.stderr.split("\n")[0]]).toEqual([
      2,
      "canwire view: -d '100:<Bk': 'k' is not a struct format character in standard mode",
    ]);
  });
});

const tmuxAvailable = spawnSync("tmux", ["-V"]).status === 0;
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

/**
 * A replay: 0x100 three times 100 ms apart (its last byte changing), four
 * other ids (0x7FF is filtered out) and an error frame, then 6 s later two more 0x100.
 */
const replayLog = [
  "(1000.000000) vcan0 100#0102030405060708",
  "(1000.050000) vcan0 7FF#DEAD",
  "(1000.100000) vcan0 100#0102030405060709",
  "(1000.120000) vcan0 200#E8030A",
  "(1000.150000) vcan0 18DAF110#1122",
  "(1000.180000) vcan0 20000004#0000080000000000",
  "(1000.200000) vcan0 100#01020304050607FF",
  `(1000.250000) vcan0 123##1${Array.from({ length: 64 }, (_, i) => i.toString(16).padStart(2, "0")).join("")}`,
  "(1006.000000) vcan0 100#0102030405060700",
  "(1006.100000) vcan0 100#0102030405060701",
  "",
].join("\n");

describe.skipIf(skipWithout("tmux", tmuxAvailable, "apt-get install tmux"))("canwire view in a real terminal (tmux)", () => {
  const scratch = mkdtempSync(join(tmpdir(), "canwire-view-"));
  const socket = `canwire-view-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  afterAll(() => {
    spawnSync("tmux", ["-L", socket, "kill-server"]);
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The pane's text (trailing blanks dropped), or with its colours as escape sequences. */
  const screen = (colours = false) => tmux("capture-pane", "-p", ...(colours ? ["-e"] : []), "-t", "view");
  const lines = () => screen().split("\n");

  /** Polls the pane until `check` holds; fails with the last screen otherwise. */
  async function waitFor(what: string, check: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = screen();
      if (check(text)) return text;
      if (Date.now() > deadline) throw new Error(`screen never showed ${what}:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The texts drawn cyan on blue in a line captured with colours. */
  /**
   * The words of a line captured with colours (`capture-pane -e`) drawn in
   * the foreground/background colours `fg`/`bg` (SGR numbers; 39/49 default).
   */
  function inColour(line: string, fg: number, bg: number): string[] {
    let current = { fg: 39, bg: 49 };
    let word = "";
    const words: string[] = [];
    const end = () => {
      if (word !== "") words.push(word);
      word = "";
    };
    for (let i = 0; i < line.length; i++) {
      const sgr = line.startsWith("\x1b[", i) ? /^\[([0-9;]*)m/u.exec(line.slice(i + 1)) : null;
      if (sgr) {
        for (const code of (sgr[1] || "0").split(";").map(Number)) {
          if (code === 0) current = { fg: 39, bg: 49 };
          else if ((code >= 30 && code <= 37) || code === 39) current = { ...current, fg: code };
          else if ((code >= 40 && code <= 47) || code === 49) current = { ...current, bg: code };
        }
        i += sgr[0].length; // the ESC and the sequence
        continue;
      }
      const ch = line[i] as string;
      if (ch !== " " && current.fg === fg && current.bg === bg) word += ch;
      else end();
    }
    end();
    return words;
  }
  const highlighted = (line: string) => inColour(line, 36, 44);
  const red = (line: string) => inColour(line, 31, 49);

  it("shows one row per id sorted by id, with count, time, dt, data, changed bytes and decoded fields; space, h, c and q work", async () => {
    const log = join(scratch, "replay.log");
    writeFileSync(log, replayLog);
    const command = [
      process.execPath,
      cli,
      "view",
      "-i virtual -c view-spec -f 100:700 -f 200:7FF -f 18DAF110:1FFFFFFF",
      `--replay ${log}`,
      "-d '200:<HB' -d '100:<HHHH:1:10.0'",
      "; echo EXIT=$?; sleep 60",
    ].join(" ");
    tmux("new-session", "-d", "-s", "view", "-x", "120", "-y", "20", command);

    const first = await waitFor("the first phase", (text) => text.includes("frames: 7"));
    expect(first.split("\n").slice(0, 7)).toEqual([
      "Count   Time           dt          ID          DLC  Data (changed)           Parsed values",
      "1       0.180000       0.000000    0x004       8    00 00 08 00 00 00 00 00",
      "3       0.200000       0.100000    0x100       8    01 02 03 04 05 06 07 FF  513 102.700000",
      "1       0.250000       0.000000    0x123       64   00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15...",
      "1       0.120000       0.000000    0x200       3    E8 03 0A                 1000 10",
      "1       0.150000       0.000000    0x18DAF110  2    11 22",
      "", // no row for 0x7FF: the filters keep it out
    ]);
    expect(first).not.toContain("0x7FF");
    expect(lines()[19]).toBe(" virtual view-spec  frames: 7  ids: 5  dropped: 0  space:pause c:clear h:highlight q:quit");
    const coloured = screen(true).split("\n");
    expect(highlighted(coloured[0]!)).toEqual(["(changed)"]);
    // the error frame's row is red, every field of it, and no other row
    expect(red(coloured[1]!)).toEqual(["1", "0.180000", "0.000000", "0x004", "8", "00", "00", "08", "00", "00", "00", "00", "00"]);
    expect(coloured.slice(2, 6).flatMap(red)).toEqual([]);
    expect(highlighted(coloured[2]!)).toEqual(["FF"]); // 09 -> FF; the other bytes stayed
    expect(coloured.slice(3, 6).flatMap(highlighted)).toEqual([]);

    // paused: the table stands still while the frames of the second phase are counted
    tmux("send-keys", "-t", "view", "Space");
    await waitFor("PAUSED", (text) => text.includes("PAUSED"), 3000);
    const paused = await waitFor("the second phase counted", (text) => text.includes("frames: 9"));
    expect(paused.split("\n")[2]).toBe("3       0.200000       0.100000    0x100       8    01 02 03 04 05 06 07 FF  513 102.700000");

    tmux("send-keys", "-t", "view", "Space");
    const resumed = await waitFor("the second phase shown", (text) => text.split("\n")[2]!.startsWith("5 "));
    expect(resumed.split("\n")[2]).toBe("5       6.100000       0.100000    0x100       8    01 02 03 04 05 06 07 01  513 102.700000");
    expect(resumed).not.toContain("PAUSED");
    expect(highlighted(screen(true).split("\n")[2]!)).toEqual(["01"]);

    tmux("send-keys", "-t", "view", "h");
    await waitFor("highlighting off", (text) => !text.includes("(changed)"), 3000);
    expect(screen(true).split("\n").flatMap(highlighted)).toEqual([]);

    // a terminal of 6 lines shows 4 rows; the arrows scroll, down no further than the last row
    tmux("resize-window", "-t", "view", "-y", "6");
    // keys sent before the viewer has redrawn for the new size would scroll a table that still fits
    await waitFor("the 6-line layout", (text) => text.split("\n")[5]?.startsWith(" virtual view-spec") ?? false, 3000);
    tmux("send-keys", "-t", "view", "Down", "Down", "Down");
    const scrolled = await waitFor("the rows scrolled by one", (text) => text.split("\n")[1]!.includes("0x100"), 3000);
    expect(scrolled.split("\n").map((line) => line.slice(0, 50).trimEnd())).toEqual([
      "Count   Time           dt          ID          DLC",
      "5       6.100000       0.100000    0x100       8",
      "1       0.250000       0.000000    0x123       64",
      "1       0.120000       0.000000    0x200       3",
      "1       0.150000       0.000000    0x18DAF110  2",
      " virtual view-spec  frames: 9  ids: 5  dropped: 0",
      "",
    ]);
    tmux("send-keys", "-t", "view", "Up");
    await waitFor("the first row again", (text) => text.split("\n")[1]!.includes("0x004"), 3000);
    tmux("resize-window", "-t", "view", "-y", "20");

    tmux("send-keys", "-t", "view", "c");
    const cleared = await waitFor("a cleared table", (text) => text.includes("ids: 0"), 3000);
    expect(cleared.split("\n").filter((line) => line.trim() !== "")).toEqual([
      "Count   Time           dt          ID          DLC  Data                     Parsed values",
      " virtual view-spec  frames: 9  ids: 0  dropped: 0  replayed 10 frames  space:pause c:clear h:highlight q:quit",
    ]);

    tmux("send-keys", "-t", "view", "q");
    const after = await waitFor("the command's end", (text) => text.includes("EXIT="), 5000);
    expect(after.split("\n").filter((line) => line.trim() !== "")).toEqual(["EXIT=0"]); // the terminal restored
  }, 60_000);
});
