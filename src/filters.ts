/**
 * Acceptance filters, with python-can semantics.
 *
 * @module
 */
import { binding } from "./binding.js";
import { invalid, native } from "./errors.js";
import { checkObject, checkShape, checkType, describe, type Shape } from "./options.js";

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

/** The JS type of each {@link CanFilter} key. */
const FILTER_KINDS: Shape = { id: "number", mask: "number", extended: "boolean", inverted: "boolean" };

/**
 * Checks the types of `filters` and returns a normalized copy; the native
 * binding checks the values (29-bit `id` and `mask`).
 */
export function normalizeFilters(filters: readonly CanFilter[] | null | undefined): CanFilter[] {
  if (filters === null || filters === undefined) return [];
  if (!Array.isArray(filters)) {
    throw invalid("ERR_INVALID_ARGUMENT", `filters must be an array of { id, mask, extended?, inverted? }, got ${describe(filters)}`);
  }
  return filters.map((f: unknown, i) => {
    const name = `filters[${i}]`;
    const filter = checkShape<CanFilter>(checkObject(f, name), name, FILTER_KINDS);
    checkType(filter.id, `${name}.id`, "number");
    checkType(filter.mask, `${name}.mask`, "number");
    const out: CanFilter = { id: filter.id, mask: filter.mask, inverted: filter.inverted ?? false };
    if (filter.extended !== undefined) out.extended = filter.extended;
    return out;
  });
}

/**
 * Whether `filters` pass a frame with this id and format (an empty list
 * passes everything), by the rule every bus applies: a filter for standard
 * frames only (`extended: false`) compares the 11 id bits alone, as the
 * Linux kernel does.
 */
export function filtersMatch(filters: readonly CanFilter[], id: number, extended: boolean): boolean {
  checkType(filters, "filters", "array");
  checkType(id, "id", "number");
  checkType(extended, "extended", "boolean");
  const normalized = normalizeFilters(filters);
  return native(() => binding.filtersMatch(normalized, id, extended));
}
