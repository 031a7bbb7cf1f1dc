/**
 * What `canwire view` shows, as data: one row per identifier with its
 * frame count, the time of its last frame since the first frame seen, its
 * period (the time between its last two frames), its last frame, and which
 * of that frame's bytes differ from the frame before it. Rows sort by id,
 * standard ids before extended ones (python-can's viewer sorts so too).
 *
 * @module
 * @internal
 */
import type { Message } from "../message.js";

/** One identifier's row. */
export interface ViewRow {
  /** The sort key: the id, plus 2^32 for extended ids. */
  key: number;
  /** Frames with this id since the start or the last clear. */
  count: number;
  /** Its last frame. */
  last: Message;
  /** Seconds between its last two frames (0 after the first). */
  periodS: number;
  /** For each byte of the last frame: whether it differs from the frame before (false for bytes it did not have). */
  changed: boolean[];
}

/** The most ids the table keeps; frames of further ids are counted in {@link ViewTable.untracked}. */
export const MAX_VIEW_ROWS = 65_536;

/** The rows of the view. */
export class ViewTable {
  /** Frames of new ids that arrived while the table held {@link MAX_VIEW_ROWS} ids (reset by a clear). */
  untracked = 0;
  readonly #rows = new Map<number, ViewRow>();
  #sorted: ViewRow[] | undefined;
  #firstNs: bigint | undefined;
  /** Adds a received frame. */
  add(m: Message): void {
    this.#firstNs ??= m.timestampNs;
    const key = m.id + (m.extended ? 2 ** 32 : 0);
    const row = this.#rows.get(key);
    if (row === undefined) {
      if (this.#rows.size >= MAX_VIEW_ROWS) {
        this.untracked++;
        return;
      }
      this.#rows.set(key, { key, count: 1, last: m, periodS: 0, changed: Array.from(m.data, () => false) });
      this.#sorted = undefined;
      return;
    }
    const before = row.last.data;
    row.changed = Array.from(m.data, (b, i) => i < before.length && b !== before[i]);
    row.periodS = Number(m.timestampNs - row.last.timestampNs) / 1e9;
    row.last = m;
    row.count++;
  }

  /** Forgets every row and the start time, as python-can's `c`. */
  clear(): void {
    this.#rows.clear();
    this.untracked = 0;
    this.#sorted = undefined;
    this.#firstNs = undefined;
  }

  /** A copy that later frames do not change (what a paused view shows). */
  snapshot(): ViewTable {
    const copy = new ViewTable();
    for (const [key, row] of this.#rows) copy.#rows.set(key, { ...row });
    copy.#firstNs = this.#firstNs;
    copy.untracked = this.untracked;
    return copy;
  }

  /** The rows by id. */
  rows(): readonly ViewRow[] {
    this.#sorted ??= [...this.#rows.values()].sort((a, b) => a.key - b.key);
    return this.#sorted;
  }

  /** Seconds from the first frame since the start or the last clear to `m`. */
  sinceFirstS(m: Message): number {
    return Number(m.timestampNs - (this.#firstNs ?? m.timestampNs)) / 1e9;
  }
}
