/**
 * Types of translated expressions, checked the way Timestream's engine checks them (Timestream
 * Developer Guide, "Query language reference" > "Supported data types" and "Operators").
 * TIMESTAMP values are BIGINT epoch nanoseconds in the translated SQL; durations are INTERVAL.
 */
import type { ScalarMeasureType } from '../types';
import { QueryRefusal } from './errors';

export type SqlType = ScalarMeasureType | 'INTERVAL' | 'UNKNOWN';

/** A translated expression: its SQL, its type, and whether it holds an aggregate. */
export interface Typed {
  readonly sql: string;
  readonly type: SqlType;
  readonly aggregate: boolean;
}

export const NUMERIC = new Set<SqlType>(['BIGINT', 'DOUBLE']);

export const refuse = (message: string): never => {
  throw new QueryRefusal(message);
};

export function comparable(a: SqlType, b: SqlType, pos: number, op: string): void {
  if (a === 'UNKNOWN' || b === 'UNKNOWN') return;
  if (a === b) return;
  if (NUMERIC.has(a) && NUMERIC.has(b)) return;
  refuse(`cannot compare ${a} with ${b} using ${op} at position ${pos}`);
}
