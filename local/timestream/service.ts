/**
 * Local stand-in for Amazon Timestream for LiveAnalytics: the write API (timestream-write) and
 * the query API (timestream-query) as gateway routes, over one DuckDB file under `dir` that
 * survives a restart. Behaviour follows the Amazon Timestream API Reference and Developer
 * Guide; each module names the pages it follows (see README.md).
 *
 * LIMITATIONS versus AWS:
 * - One store, no cells: DescribeEndpoints returns the host name the client used (Host header,
 *   without the port, which SDK v3 endpoint discovery keeps from its configured endpoint).
 * - Request-shape problems (bad value text, unknown type, reserved or over-long names,
 *   overlapping CommonAttributes dimensions, Version < 1, Time that is not digits) fail the
 *   whole request with ValidationException; table-dependent problems (ingestion window, version
 *   conflicts, type conflicts with the table's schema, table column limits) reject single
 *   records with RejectedRecordsException (HTTP 419) while the others are stored. AWS's exact
 *   split and wording for some of these are unconfirmed.
 * - Memory and magnetic stores are one store; MagneticStore counts only report where a record
 *   would have gone. Rows past magnetic retention are hidden from queries but not deleted.
 *   No MagneticStoreRejectedDataLocation reports, batch load, KMS, tags or scheduled queries.
 * - A multi-measure upsert replaces the whole record (all its measures) when the version wins.
 * - Query: one SELECT over one table; no joins, subqueries, CTEs, window functions, CASE, CAST,
 *   INTERVAL literals or functions beyond now, ago, bin, from/to_milliseconds,
 *   from/to_nanoseconds, from_iso8601_timestamp, abs, round and avg/min/max/count/sum. Any other
 *   construct is refused with ValidationException naming it. measure_value::<type> columns can
 *   be named before a record of that type exists (they read as NULL); AWS refuses them.
 * - Query results are computed in full on the first call; later pages come from memory for
 *   ten minutes. QueryStatus byte counts are estimates.
 */
import { DEFAULT_RETENTION } from './catalog';
import { createTimestreamQueryRoute } from './query/route';
import { QueryRunner } from './query/runner';
import { TimestreamStore } from './store';
import type {
  RetentionInput,
  RetentionSettings,
  TableInfo,
  TimestreamService,
  TimestreamServiceOptions,
} from './types';
import { createTimestreamWriteRoute } from './write/route';

function retentionOf(base: RetentionSettings, o: RetentionInput): RetentionSettings {
  const num = (v: number | string | undefined, fallback: number) =>
    v === undefined ? fallback : typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN;
  const flag = o.enableMagneticStoreWrites;
  return {
    memoryStoreRetentionHours: num(o.memoryStoreRetentionHours, base.memoryStoreRetentionHours),
    magneticStoreRetentionDays: num(o.magneticStoreRetentionDays, base.magneticStoreRetentionDays),
    enableMagneticStoreWrites:
      flag === undefined
        ? base.enableMagneticStoreWrites
        : typeof flag === 'boolean'
          ? flag
          : flag.toLowerCase() === 'true',
  };
}

export async function createTimestreamService(opts: TimestreamServiceOptions): Promise<TimestreamService> {
  const log = opts.logger.child('timestream');
  const store = await TimestreamStore.open(opts.dir, opts.identity, opts.now ?? Date.now);
  const runner = new QueryRunner(store, log);
  const info = (t: { database: string; name: string; retention: RetentionSettings }): TableInfo => ({
    database: t.database,
    table: t.name,
    retention: t.retention,
  });
  log.info(
    `store open at ${opts.dir}: ${store.catalog.databases.size} database(s), ${store.catalog.tables.size} table(s)`,
  );
  return {
    writeRoute: createTimestreamWriteRoute(store, opts.identity, log),
    queryRoute: createTimestreamQueryRoute(runner),
    async createDatabase(name, o) {
      await store.createDatabase(name, o);
    },
    async createTable(database, name, o = {}) {
      return info(await store.createTable(database, name, retentionOf(DEFAULT_RETENTION, o)));
    },
    async updateTable(database, name, o) {
      const current = store.catalog.table(database, name).retention;
      return info(await store.updateTable(database, name, retentionOf(current, o)));
    },
    deleteTable: (database, name) => store.deleteTable(database, name),
    deleteDatabase: (name) => store.deleteDatabase(name),
    query: (queryString, o = {}) =>
      runner.query({
        QueryString: queryString,
        ...(o.maxRows !== undefined ? { MaxRows: o.maxRows } : {}),
        ...(o.nextToken !== undefined ? { NextToken: o.nextToken } : {}),
      }),
    async close() {
      await store.close();
      log.info('store closed');
    },
  };
}
