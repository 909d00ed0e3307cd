import { READING_MEASURE_NAME, type SensorKind } from '../contracts';

/**
 * The Timestream queries behind the dashboard. They are plain Timestream SQL, the same the
 * dashboard would run against Amazon Timestream, and the local query API answers them.
 */

const ms = (epochMs: number) => `from_milliseconds(${Math.round(epochMs)})`;

export function latestReadingsQuery(db: string, table: string, from: number, to: number): string {
  return (
    `SELECT zone, thing, time, temperature, humidity, co2, occupancy, light FROM "${db}"."${table}" ` +
    `WHERE measure_name = '${READING_MEASURE_NAME}' AND time BETWEEN ${ms(from)} AND ${ms(to)} ` +
    'ORDER BY time DESC LIMIT 500'
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
