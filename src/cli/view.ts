/**
 * `canwire view`: a live table of the bus, one row per id, as python-can's
 * `can.viewer` and can-utils' `cansniffer` show it.
 *
 * @module
 * @internal
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { Bus } from "../bus.js";
import { Player } from "../player.js";
import { busOptionHelp, busOptionSpec, busOptions, integer, parse, parseFilter, UsageError } from "./args.js";
import { type FieldDecoder, parseDecoder } from "./view-decode.js";
import { drawScreen, type ScreenState, visibleRows } from "./view-screen.js";
import { ViewTable } from "./view-table.js";

export const viewUsage = `usage: canwire view [-i IFACE] [-c CHANNEL] [-f ID:MASK]... [-d ID:FORMAT[:SCALE...]]...
                   [--replay FILE] [--refresh-ms MS]

A live table of the bus in the terminal, as python-can's viewer and
cansniffer: one row per id, sorted by id (standard before extended), with
its frame count, the time of its last frame since the first frame, dt (the
time between its last two frames), DLC and data, the bytes that changed from
the id's previous frame in cyan on blue, error frames in red. Classic and FD
frames are shown.

Keys: space pause (the table stands still, frames are still counted),
c clear, h highlight changed bytes on/off, up/down scroll, q or ESC quit.

  -f, --filter ID:MASK    show ids with (id ^ ID) & MASK == 0; ID~MASK shows the
                          others; hex, an 8-digit ID means extended; repeatable
  -d, --decode ID:FORMAT[:SCALE...]
                          decode the payload of frames with id ID (hex) by the
                          Python struct FORMAT (< little, > big endian; x pad,
                          c char, ? bool, b/B 8-bit, h/H 16-bit, i/I/l/L 32-bit,
                          q/Q 64-bit, e/f/d float; e.g. 100:<BHL), each value
                          divided by its SCALE (10: whole-number division, 10.0:
                          exact); repeatable, or a FILE with one such line each
      --replay FILE       replay a log file (.blf .mf4 .asc .log .trc .csv .db) onto the
                          viewed virtual channel with its timing and timestamps,
                          as canwire play would (virtual interface only)
      --refresh-ms MS     redraw at most every MS milliseconds, 10..10000 (default 100)
${busOptionHelp}`;

/** Runs `canwire view`. */
export async function view(argv: string[]): Promise<number> {
  const spec = {
    ...busOptionSpec,
    filter: { type: "string", short: "f", multiple: true },
    decode: { type: "string", short: "d", multiple: true },
    replay: { type: "string" },
    "refresh-ms": { type: "string" },
  } as const;
  const { values, positionals } = parse(argv, spec, false);
  if (values.help) {
    console.log(viewUsage);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const decoders = readDecoders(values.decode ?? []);
  const refreshMs = integer("--refresh-ms", values["refresh-ms"], 100);
  if (refreshMs < 10 || refreshMs > 10_000) throw new UsageError(`--refresh-ms is 10..10000, got ${refreshMs}`);
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    throw new UsageError("canwire view draws on a terminal: run it with stdin and stdout on a TTY (use canwire dump for a pipe)");
  }
  const options = busOptions(values);
  options.filters = (values.filter ?? []).map(parseFilter);
  options.fd = true; // as candump and cansniffer: classic and FD frames alike
  await using bus = await Bus.open(options);
  let player: Player | undefined;
  let playerBus: Bus | undefined;
  if (values.replay !== undefined) {
    if (bus.interface !== "virtual") throw new UsageError("--replay plays onto a virtual channel: use it with -i virtual");
    playerBus = await Bus.open({ interface: "virtual", channel: bus.channel, fd: true, preserveTimestamps: true, ignoreConfig: true });
    try {
      player = Player.start(playerBus, values.replay, {});
    } catch (error) {
      await playerBus.close();
      throw error;
    }
  }
  try {
    const view = new LiveView(bus, decoders, refreshMs);
    player?.finished.then(
      (stats) => view.note(`replayed ${stats.sent} frames${stats.sendErrors > 0 ? `, ${stats.sendErrors} refused` : ""}`),
      (error: unknown) => view.note(`replay failed: ${error instanceof Error ? error.message : String(error)}`),
    );
    await view.run();
  } finally {
    await player?.stop().catch(() => undefined); // its failure is on the screen already
    await playerBus?.close();
  }
  return 0;
}

/** The `-d` values: decoders by id; a first value naming a file is read one decoder per line. */
function readDecoders(specs: readonly string[]): Map<number, FieldDecoder> {
  const first = specs[0];
  const lines =
    first !== undefined && existsSync(first) && statSync(first).isFile()
      ? readFileSync(first, "utf8")
          .split(/\r?\n/u)
          .filter((line) => line.trim() !== "")
      : specs;
  const decoders = new Map<number, FieldDecoder>();
  for (const line of lines) {
    const decoder = parseDecoder(line);
    if (typeof decoder === "string") throw new UsageError(`-d ${decoder}`);
    decoders.set(decoder.id, decoder);
  }
  return decoders;
}

/** The running view: reads the bus into the table, draws it, answers keys. */
class LiveView {
  readonly #table = new ViewTable();
  /** What a paused view shows. */
  #frozen: ViewTable | undefined;
  #frames = 0;
  #scroll = 0;
  #highlight = true;
  #dirty = true;
  #quit = false;
  #wakeQuit: (() => void) | undefined;
  #note: string | undefined;

  constructor(
    readonly bus: Bus,
    readonly decoders: ReadonlyMap<number, FieldDecoder>,
    readonly refreshMs: number,
  ) {}

  /** Runs until q, ESC, Ctrl-C or SIGTERM; leaves the terminal as it found it. */
  async run(): Promise<void> {
    const { stdin, stdout } = process;
    const onKey = (chunk: Buffer) => this.#key(chunk.toString("latin1"));
    const onResize = () => this.#markDirty();
    const onSignal = () => this.#stop();
    stdout.write("\x1b[?1049h\x1b[?25l\x1b[2J");
    stdin.setRawMode(true);
    stdin.on("data", onKey);
    stdin.resume();
    stdout.on("resize", onResize);
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    const timer = setInterval(() => this.#draw(), this.refreshMs);
    try {
      const reading = this.#read();
      await Promise.race([reading, new Promise<void>((resolve) => (this.#wakeQuit = resolve))]);
      this.#quit = true;
      await reading; // ends within one receive timeout
    } finally {
      clearInterval(timer);
      stdin.off("data", onKey);
      stdin.setRawMode(false);
      stdin.pause();
      stdout.off("resize", onResize);
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      stdout.write("\x1b[?25h\x1b[?1049l");
    }
  }

  async #read(): Promise<void> {
    while (!this.#quit) {
      const batch = await this.bus.recvBatch({ max: 4096, timeoutMs: this.refreshMs });
      if (batch === null) continue;
      for (const m of batch.messages()) this.#table.add(m);
      this.#frames += batch.length;
      this.#dirty = true;
    }
  }

  /** Shows `text` in the status line from now on. */
  note(text: string): void {
    this.#note = text;
    this.#markDirty();
  }

  #stop(): void {
    this.#quit = true;
    this.#wakeQuit?.();
  }

  #markDirty(): void {
    this.#dirty = true;
    this.#draw();
  }

  #key(text: string): void {
    for (const key of terminalKeys(text)) {
      if (key === "q" || key === "\x1b" || key === "\x03") {
        this.#stop();
        return;
      }
      if (key === " ") this.#frozen = this.#frozen === undefined ? this.#table.snapshot() : undefined;
      else if (key === "c") {
        this.#table.clear();
        if (this.#frozen !== undefined) this.#frozen = this.#table.snapshot();
        this.#scroll = 0;
      } else if (key === "h") this.#highlight = !this.#highlight;
      else if (key === "\x1b[A" || key === "\x1bOA") this.#scroll = Math.max(0, this.#scroll - 1);
      else if (key === "\x1b[B" || key === "\x1bOB") {
        const shown = this.#frozen ?? this.#table;
        const last = Math.max(0, shown.rows().length - visibleRows(process.stdout.rows ?? 24));
        this.#scroll = Math.min(last, this.#scroll + 1);
      }
    }
    this.#markDirty();
  }

  #draw(): void {
    if (!this.#dirty || this.#quit) return;
    this.#dirty = false;
    const stats = this.bus.stats();
    const state: ScreenState = {
      width: process.stdout.columns ?? 80,
      height: process.stdout.rows ?? 24,
      scroll: this.#scroll,
      paused: this.#frozen !== undefined,
      highlight: this.#highlight,
      decoders: this.decoders,
      bus: `${this.bus.interface} ${this.bus.channel}`,
      frames: this.#frames,
      dropped: stats.rxDroppedQueueFull + stats.rxDroppedKernel,
      note: this.#note,
    };
    process.stdout.write(drawScreen(this.#frozen ?? this.#table, state));
  }
}

/**
 * The keys in a chunk of terminal input: escape sequences (`ESC [ ... final`,
 * `ESC O x`: arrow keys) whole, a lone ESC, and single characters.
 */
export function terminalKeys(text: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < text.length; ) {
    if (text[i] === "\x1b" && text[i + 1] === "[") {
      let end = i + 2;
      while (end < text.length && !/[@-~]/u.test(text[end] as string)) end++;
      keys.push(text.slice(i, end + 1));
      i = end + 1;
    } else if (text[i] === "\x1b" && text[i + 1] === "O" && i + 2 < text.length) {
      keys.push(text.slice(i, i + 3));
      i += 3;
    } else {
      keys.push(text[i] as string);
      i++;
    }
  }
  return keys;
}
