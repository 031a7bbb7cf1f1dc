/**
 * The screen of `canwire view`, drawn from a {@link ViewTable}: python-can's
 * viewer layout (columns Count 0, Time 8, dt 23, ID 35, DLC 47, Data 52,
 * Parsed values 77), error frames in red, changed bytes cyan on blue, and a
 * status line at the bottom (bus, frames, ids, drops, pause, keys). Pure:
 * it returns the ANSI text that redraws the whole terminal.
 *
 * @module
 * @internal
 */
import { decodeFields, type FieldDecoder, float6 } from "./view-decode.js";
import { MAX_VIEW_ROWS, type ViewRow, type ViewTable } from "./view-table.js";

/** A cell style, as an SGR parameter string ("" is plain). */
const PLAIN = "";
const BOLD = "1";
const RED = "31";
const CHANGED = "36;44";
const STATUS = "7";

/** What the screen shows besides the table. */
export interface ScreenState {
  width: number;
  height: number;
  /** Rows scrolled off the top. */
  scroll: number;
  paused: boolean;
  highlight: boolean;
  decoders: ReadonlyMap<number, FieldDecoder>;
  /** The bus, e.g. `virtual channel-0`. */
  bus: string;
  /** Frames received since the start (counted on while paused). */
  frames: number;
  /** Frames the bus could not deliver (queue full, kernel drops). */
  dropped: number;
  /** A note for the status line (how a replay ended). */
  note?: string | undefined;
}

/** One terminal line being laid out: characters and their styles. */
class Line {
  readonly chars: string[];
  readonly styles: string[];

  constructor(readonly width: number) {
    this.chars = Array.from({ length: width }, () => " ");
    this.styles = Array.from({ length: width }, () => PLAIN);
  }

  /** Writes `text` from column `col`; what passes the right edge is cut, as curses does. */
  put(col: number, text: string, style = PLAIN): void {
    for (let i = 0; i < text.length && col + i < this.width; i++) {
      this.chars[col + i] = text[i] as string;
      this.styles[col + i] = style;
    }
  }

  /** The line as ANSI text, trailing plain blanks dropped. */
  toString(): string {
    let end = this.width;
    while (end > 0 && this.chars[end - 1] === " " && this.styles[end - 1] === PLAIN) end--;
    let out = "";
    let current = PLAIN;
    for (let i = 0; i < end; i++) {
      const style = this.styles[i] as string;
      if (style !== current) {
        out += style === PLAIN ? "\x1b[0m" : `\x1b[0;${style}m`;
        current = style;
      }
      out += this.chars[i];
    }
    return current === PLAIN ? out : `${out}\x1b[0m`;
  }
}

/** The header line, as python-can's viewer draws it. */
function header(state: ScreenState): Line {
  const line = new Line(state.width);
  line.put(0, "Count", BOLD);
  line.put(8, "Time", BOLD);
  line.put(23, "dt", BOLD);
  line.put(35, "ID", BOLD);
  line.put(47, "DLC", BOLD);
  line.put(52, "Data", BOLD);
  if (state.highlight) line.put(57, "(changed)", CHANGED);
  if (state.decoders.size > 0) line.put(77, "Parsed values", BOLD);
  return line;
}

/** One id's line. */
function rowLine(row: ViewRow, table: ViewTable, state: ScreenState): Line {
  const line = new Line(state.width);
  const m = row.last;
  const style = m.error ? RED : PLAIN;
  line.put(0, String(row.count), style);
  line.put(8, float6(table.sinceFirstS(m)), style);
  line.put(23, float6(row.periodS), style);
  line.put(
    35,
    `0x${m.id
      .toString(16)
      .toUpperCase()
      .padStart(m.extended ? 8 : 3, "0")}`,
    style,
  );
  line.put(47, String(m.dlc), style);
  for (let i = 0; i < m.data.length; i++) {
    const col = 52 + i * 3;
    if (col > state.width - 2) {
      line.put(col - 4, "...", style);
      break;
    }
    const changed = state.highlight && row.changed[i] === true;
    line.put(col, (m.data[i] as number).toString(16).toUpperCase().padStart(2, "0"), changed ? CHANGED : style);
  }
  const decoder = state.decoders.get(m.id);
  const values = decoder === undefined ? undefined : decodeFields(decoder, m.data);
  if (values !== undefined) line.put(77, values, style);
  return line;
}

/** The status line at the bottom. */
function statusLine(table: ViewTable, state: ScreenState): Line {
  const line = new Line(state.width);
  const parts = [
    state.bus,
    `frames: ${state.frames}`,
    `ids: ${table.rows().length}`,
    `dropped: ${state.dropped}`,
    ...(table.untracked > 0 ? [`frames of ids past ${MAX_VIEW_ROWS}: ${table.untracked}`] : []),
    ...(state.paused ? ["PAUSED"] : []),
    ...(state.note !== undefined ? [state.note] : []),
    "space:pause c:clear h:highlight q:quit",
  ];
  // the last column of the last line is left empty: writing it would scroll some terminals
  line.put(0, ` ${parts.join("  ")} `.padEnd(state.width - 1).slice(0, state.width - 1), STATUS);
  return line;
}

/** How many table rows fit between the header and the status line. */
export function visibleRows(height: number): number {
  return Math.max(0, height - 2);
}

/** The ANSI text that redraws the terminal: header, the visible rows, status. */
export function drawScreen(table: ViewTable, state: ScreenState): string {
  const rows = table.rows().slice(state.scroll, state.scroll + visibleRows(state.height));
  const lines = [header(state), ...rows.map((row) => rowLine(row, table, state))];
  const out = lines.map((line, i) => `\x1b[${i + 1};1H${line}\x1b[K`).join("");
  const blank = lines.length < state.height - 1 ? `\x1b[${lines.length + 1};1H\x1b[J` : "";
  return `${out}${blank}\x1b[${state.height};1H${statusLine(table, state)}\x1b[K`;
}
