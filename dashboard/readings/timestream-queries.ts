import { READING_MEASURE_NAME, type SensorKind } from '../../contracts';
import type { SequenceRange } from './reader';

/**
 * The Timestream SQL behind the Timestream reader: the queries the dashboard and the books would
 * run against Amazon Timestream, which the local query API answers too.
 */

const ms = (epochMs: number) => `from_milliseconds(${Math.round(epochMs)})`;
const quoted = (text: string) => `'${text.replace(/'/g, "''")}'`;

export function latestReadingsQuery(
  db: string,
  table: string,
  from: number,
  to: number,
  limit = 500,
): string {
  return (
    `SELECT zone, thing, time, temperature, humidity, co2, occupancy, light FROM "${db}"."${table}" ` +
    `WHERE measure_name = '${READING_MEASURE_NAME}' AND time BETWEEN ${ms(from)} AND ${ms(to)} ` +
    `ORDER BY time DESC LIMIT ${Math.max(1, Math.trunc(limit))}`
  );
}

export function zoneSeriesQuery(
  db: string,
  table: string,
  measure: SensorKind,
  from: number,
  to: number,
  binMinutes: number,
): string {
  return (
    `SELECT zone, bin(time, ${binMinutes}m) AS t, avg(${measure}) AS v FROM "${db}"."${table}" ` +
    `WHERE measure_name = '${READING_MEASURE_NAME}' AND time BETWEEN ${ms(from)} AND ${ms(to)} ` +
    `GROUP BY zone, bin(time, ${binMinutes}m) ORDER BY t`
  );
}

export function storedReadingsCountQuery(db: string, table: string): string {
  return `SELECT count(*) AS n FROM "${db}"."${table}" WHERE measure_name = '${READING_MEASURE_NAME}'`;
}

export function storedReadingsInRangesQuery(
  db: string,
  table: string,
  ranges: readonly SequenceRange[],
): string {
  const where = ranges
    .map((r) => `(thing = ${quoted(r.thing)} AND seq >= ${Math.trunc(r.fromSeq)})`)
    .join(' OR ');
  return `${storedReadingsCountQuery(db, table)} AND (${where})`;
}
