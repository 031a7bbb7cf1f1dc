// Types of repeats.mjs, for the specs that check the bench's arithmetic.

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function rowKey(r: { scheduler: string; periodMs: number; tasks: number; load: string }): string;

export function numbers(values: unknown[]): number[];

export function spread(values: unknown[]): Spread | null;

// biome-ignore lint/suspicious/noExplicitAny: rows are the bench's loose JSON objects
export function summarizeRows(runs: Record<string, any>[]): Record<string, any>[];

export function pairedByRepeat(
  // biome-ignore lint/suspicious/noExplicitAny: rows are the bench's loose JSON objects
  runs: Record<string, any>[],
  // biome-ignore lint/suspicious/noExplicitAny: rows are the bench's loose JSON objects
  isA: (r: Record<string, any>) => boolean,
  // biome-ignore lint/suspicious/noExplicitAny: rows are the bench's loose JSON objects
  isB: (r: Record<string, any>) => boolean,
  // biome-ignore lint/suspicious/noExplicitAny: rows are the bench's loose JSON objects
  value: (a: Record<string, any>, b: Record<string, any>) => number | null,
): (Spread & { count: number }) | null;
