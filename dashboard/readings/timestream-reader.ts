import {
  QueryCommand,
  type QueryCommandOutput,
  TimestreamQueryClient,
} from '@aws-sdk/client-timestream-query';
import { type LocalClientConfig, SENSOR_KINDS } from '../../contracts';
import type { BinnedValue, LatestReading, ReadingsReader } from './reader';
import {
  latestReadingsQuery,
  storedReadingsCountQuery,
  storedReadingsInRangesQuery,
  zoneSeriesQuery,
} from './timestream-queries';

/**
 * ReadingsReader over Amazon Timestream for LiveAnalytics: Timestream SQL through the Query API
 * (every page), as the dashboard would run it against AWS.
 */
export type Row = Record<string, string | undefined>;

export function timestreamReader(
  client: LocalClientConfig | Record<string, unknown>,
  table: { database: string; table: string },
): ReadingsReader {
  const query = new TimestreamQueryClient(client);
  const rows = async (sql: string): Promise<Row[]> => {
    const out: Row[] = [];
    let next: string | undefined;
    do {
      const page: QueryCommandOutput = await query.send(
        new QueryCommand({ QueryString: sql, NextToken: next }),
      );
      const names = (page.ColumnInfo ?? []).map((c) => c.Name ?? '');
      for (const row of page.Rows ?? []) {
        const record: Row = {};
        row.Data?.forEach((d, i) => {
          record[names[i]!] = d.NullValue ? undefined : d.ScalarValue;
        });
        out.push(record);
      }
      next = page.NextToken;
    } while (next);
    return out;
  };
  let tableHasReadings = false;
  return {
    engine: 'timestream',
    async latest(from, to, limit = 500) {
      return (await rows(latestReadingsQuery(table.database, table.table, from, to, limit))).map(
        (r): LatestReading => ({
          zone: r.zone ?? '',
          thing: r.thing ?? '',
          at: parseTimestreamTime(r.time),
          values: Object.fromEntries(
            SENSOR_KINDS.filter((k) => r[k] !== undefined).map((k) => [k, Number(r[k])]),
          ),
        }),
      );
    },
    async series(measure, from, to, binMinutes) {
      return (await rows(zoneSeriesQuery(table.database, table.table, measure, from, to, binMinutes)))
        .filter((r) => r.v !== undefined)
        .map((r): BinnedValue => ({ zone: r.zone ?? '', t: parseTimestreamTime(r.t), v: Number(r.v) }));
    },
    async countStored(ranges) {
      if (ranges.length === 0) return 0;
      // Timestream creates dimension and measure columns with the first record that has them.
      if (!tableHasReadings) {
        const probe = await rows(storedReadingsCountQuery(table.database, table.table));
        if (Number(probe[0]?.n ?? 0) === 0) return 0;
        tableHasReadings = true;
      }
      return Number(
        (await rows(storedReadingsInRangesQuery(table.database, table.table, ranges)))[0]?.n ?? 0,
      );
    },
    close: () => query.destroy(),
  };
}

/** Timestream returns '2026-11-23 20:00:00.000000000' (UTC). */
export function parseTimestreamTime(value: string | undefined): number {
  if (!value) return Number.NaN;
  return Date.parse(`${value.replace(' ', 'T').slice(0, 23)}Z`);
}
