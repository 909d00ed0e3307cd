import type { SensorKind } from '../../contracts';

/**
 * The engine-neutral way to read readings back: what the dashboard, the demo's books and the
 * bench ask of the store, answered by Timestream for LiveAnalytics (timestream-reader.ts,
 * Timestream SQL through the Query API) or Timestream for InfluxDB (influxdb-reader.ts,
 * InfluxQL through the InfluxDB 1.x compatibility API). Times are epoch milliseconds.
 */

export interface LatestReading {
  readonly zone: string;
  readonly thing: string;
  readonly at: number;
  readonly values: Partial<Record<SensorKind, number>>;
}

export interface BinnedValue {
  readonly zone: string;
  /** Start of the bin. */
  readonly t: number;
  readonly v: number;
}

/** Readings of one thing from a sequence number on (a run of the demo). */
export interface SequenceRange {
  readonly thing: string;
  readonly fromSeq: number;
}

export interface ReadingsReader {
  /** Which store answers. */
  readonly engine: 'timestream' | 'influxdb';
  /** Readings taken between `from` and `to`, newest first, at most `limit`. */
  latest(from: number, to: number, limit?: number): Promise<LatestReading[]>;
  /** One measure averaged per zone in bins of `binMinutes`, oldest first; empty bins left out. */
  series(measure: SensorKind, from: number, to: number, binMinutes: number): Promise<BinnedValue[]>;
  /** How many readings the store holds within the ranges (0 with no range). */
  countStored(ranges: readonly SequenceRange[]): Promise<number>;
  close(): void;
}
