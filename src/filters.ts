/**
 * Acceptance filters, with python-can semantics.
 *
 * @module
 */
import { invalid } from "./errors.js";

/**
 * One acceptance filter. A frame passes when `(frame.id ^ id) & mask === 0`
 * and, if `extended` is given, the frame's format matches. An `inverted`
 * filter passes exactly what the plain one would reject. Error frames are
 * not subject to id filters (as on SocketCAN).
 *
 * @example
 * ```ts
 * bus.setFilters([{ id: 0x100, mask: 0x700 }, { id: 0x18daf110, mask: 0x1fffffff, extended: true }]);
 * bus.setFilters([{ id: 0x7df, mask: 0x7ff, inverted: true }]); // everything but 0x7DF
 * ```
 */
export interface CanFilter {
  /** Identifier bits to compare. */
  id: number;
  /** Which bits take part: 0..0x1FFFFFFF. */
  mask: number;
  /** If given, the frame must be extended (true) or standard (false). */
  extended?: boolean;
  /** Pass what the plain filter rejects. */
  inverted?: boolean;
}

const MAX = 0x1fffffff;

/** Checks filters and returns a normalized copy. */
export function normalizeFilters(filters: readonly CanFilter[] | null | undefined): CanFilter[] {
  if (filters === null || filters === undefined) return [];
  if (!Array.isArray(filters)) {
    throw invalid("ERR_INVALID_ARGUMENT", "filters must be an array of { id, mask, extended?, inverted? }");
  }
  return filters.map((f: CanFilter, i) => {
    for (const key of ["id", "mask"] as const) {
      const v = f?.[key];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX) {
        throw invalid("ERR_INVALID_ARGUMENT", `filters[${i}].${key} must be an integer 0..0x1fffffff, got ${String(v)}`);
      }
    }
    const out: CanFilter = { id: f.id, mask: f.mask, inverted: f.inverted ?? false };
    if (f.extended !== undefined) out.extended = f.extended;
    return out;
  });
}

/** Whether `filters` pass a frame with this id and format (an empty list passes everything). */
export function filtersMatch(filters: readonly CanFilter[], id: number, extended: boolean): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) => {
    const hit = ((id ^ f.id) & f.mask) === 0 && (f.extended === undefined || f.extended === extended);
    return hit !== (f.inverted ?? false);
  });
}
