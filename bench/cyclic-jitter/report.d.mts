// Types of report.mjs, for the specs that check the bench's verdicts.

export const TARGETS: {
  driftPpm: number;
  p99VsReference: number;
  p99BlockedVsIdle: number;
  setIntervalVsCanwireBlocked: number;
};

export interface Check {
  check: string;
  scheduler: string;
  periodMs: number;
  tasks: number;
  load: string;
  median: number;
  min: number;
  max: number;
  /** The reference loop's same figure in the same repeats, where it has one (missed slots; blocked / idle: the machine's floor). */
  reference?: { median: number; min: number; max: number };
  target: string;
  pass: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: rows are the bench's loose JSON objects
export function rowsTable(summaries: Record<string, any>[]): string;

// biome-ignore lint/suspicious/noExplicitAny: rows are the bench's loose JSON objects
export function targetChecks(runs: Record<string, any>[], summaries: Record<string, any>[]): { text: string; checks: Check[] };
