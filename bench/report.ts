/**
 * Bench figures and how they are printed: one row per figure (metric, value, unit, note), a
 * plain-text table for people and a JSON file for tools.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Metric {
  /** Stable key, e.g. `agents.rssPerAgent`. */
  readonly id: string;
  /** What it is, for people. */
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly note: string;
}

export interface StageOutcome {
  readonly stage: string;
  readonly ok: boolean;
  readonly seconds: number;
  /** Why the stage failed or was skipped. */
  readonly error?: string;
  readonly metrics: readonly Metric[];
}

export interface BenchReport {
  readonly startedAt: string;
  readonly seconds: number;
  readonly machine: {
    readonly node: string;
    readonly platform: string;
    readonly arch: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly totalMemoryMiB: number;
  };
  /** The machine's load average when the report was written (the machine may be shared). */
  readonly load?: string;
  readonly stages: readonly StageOutcome[];
}

export const MIB = 1024 * 1024;

/** Median of a non-empty list; NaN for an empty one. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Rounds for display: 3 significant digits below 100, whole numbers above. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs === 0) return '0';
  return String(Number(value.toPrecision(3)));
}

/** A text table with a column per field; the note column is not padded. */
export function formatTable(metrics: readonly Metric[]): string {
  const rows = metrics.map((m) => [m.metric, formatValue(m.value), m.unit, m.note]);
  const header = ['metric', 'value', 'unit', 'note'];
  const widths = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    [
      cells[0]!.padEnd(widths[0]!),
      cells[1]!.padStart(widths[1]!),
      cells[2]!.padEnd(widths[2]!),
      cells[3] ?? '',
    ].join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ') + '  ----';
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function writeReport(path: string, report: BenchReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}

export class StageTimeoutError extends Error {
  override readonly name = 'StageTimeoutError';
}

/** Resolves with `work`, or rejects after `ms` (the work is not cancelled: callers clean up). */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StageTimeoutError(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Prints an error for people: message and cause. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause ? ` (cause: ${errorText(err.cause)})` : '';
    return `${err.name}: ${err.message}${cause}`;
  }
  return String(err);
}
