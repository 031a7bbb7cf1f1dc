// Types of analysis.mjs, for the specs that check the bench's arithmetic.

export const FULL_RING: number;

export function assignSlots(
  t: ArrayLike<number>,
  marker: ArrayLike<number>,
  periodNs: number,
  ring: number,
  unwrapByTime?: boolean,
): { slots: Float64Array; missed: number };

export function fitTask(
  t: ArrayLike<number>,
  slots: Float64Array,
  periodNs: number,
): { driftPpm: number | null; driftLsqPpm: number | null; errorsNs: Float64Array; startNs: number };

export function quantile(sorted: ArrayLike<number>, q: number): number;

export function median(values: ArrayLike<number>): number;

export interface RowFigures {
  frames: number;
  missed: number;
  tasksSeen: number;
  driftPpm: number | null;
  driftMeanPpm: number | null;
  driftLsqPpm: number | null;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

export function analyzeRow(
  tasks: Map<number, { t: Float64Array; marker: Uint32Array }>,
  periodNs: number,
  ring: number,
  unwrapByTime?: boolean,
): RowFigures;

export function byTask(rx: {
  ids: Uint32Array;
  t: Float64Array;
  marker: Uint32Array;
  count: number;
}): Map<number, { t: Float64Array; marker: Uint32Array }>;
