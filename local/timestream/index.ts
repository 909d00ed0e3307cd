/**
 * Local stand-in for Amazon Timestream for LiveAnalytics: the write API (timestream-write) and
 * the query API (timestream-query) as gateway routes, over one DuckDB file under `dir` that
 * survives a restart. Behaviour follows aws-semantics §5 and the Timestream Developer Guide;
 * each module names the section it follows.
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
import type { CloudIdentity } from '../common/account';
import type { LocalLogger } from '../common/log';
import type { ServiceRoute } from '../gateway/types';
import { DEFAULT_RETENTION, type RetentionSettings } from './catalog';
import { TimestreamEngine } from './engine';
import { createQueryRoute, type QueryResult, QueryRunner } from './query-api';
import { createWriteRoute } from './write-api';

export type { RetentionSettings } from './catalog';
export { DEFAULT_RETENTION } from './catalog';
export type { QueryResult } from './query-api';

export interface TimestreamServiceOptions {
  /** Directory for the DuckDB file; created if missing. */
  readonly dir: string;
  readonly identity: CloudIdentity;
  readonly logger: LocalLogger;
  /** Clock in epoch milliseconds (tests move it); defaults to Date.now. */
  readonly now?: () => number;
}

export interface TableInfo {
  readonly database: string;
  readonly table: string;
  readonly retention: RetentionSettings;
}

/**
 * Retention as a template gives it: CloudFormation's AWS::Timestream::Table carries
 * RetentionProperties values as strings ("24"), so numeric strings and "true"/"false" are accepted.
 */
export interface RetentionInput {
  readonly memoryStoreRetentionHours?: number | string;
  readonly magneticStoreRetentionDays?: number | string;
  readonly enableMagneticStoreWrites?: boolean | string;
}

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

export interface TimestreamService {
  /** timestream-write: DescribeEndpoints, WriteRecords, database and table operations. */
  readonly writeRoute: ServiceRoute;
  /** timestream-query: Query (and DescribeEndpoints, CancelQuery). */
  readonly queryRoute: ServiceRoute;
  /** Creates the database unless it exists (the deployer's path; idempotent). */
  createDatabase(name: string, opts?: { kmsKeyId?: string }): Promise<void>;
  /** Creates the table, or updates its retention keeping its data (idempotent). */
  createTable(database: string, name: string, opts?: RetentionInput): Promise<TableInfo>;
  updateTable(database: string, name: string, opts: RetentionInput): Promise<TableInfo>;
  deleteTable(database: string, name: string): Promise<void>;
  deleteDatabase(name: string): Promise<void>;
  /** Runs a query the way the Query API does (for tools and tests in-process). */
  query(queryString: string, opts?: { maxRows?: number; nextToken?: string }): Promise<QueryResult>;
  /** Waits for work in flight, checkpoints and closes the database file. */
  close(): Promise<void>;
}

export async function createTimestreamService(opts: TimestreamServiceOptions): Promise<TimestreamService> {
  const log = opts.logger.child('timestream');
  const engine = await TimestreamEngine.open(opts.dir, opts.identity, opts.now ?? Date.now);
  const runner = new QueryRunner(engine, log);
  const info = (t: { database: string; name: string; retention: RetentionSettings }): TableInfo => ({
    database: t.database,
    table: t.name,
    retention: t.retention,
  });
  log.info(
    `store open at ${opts.dir}: ${engine.catalog.databases.size} database(s), ${engine.catalog.tables.size} table(s)`,
  );
  return {
    writeRoute: createWriteRoute(engine, opts.identity, log),
    queryRoute: createQueryRoute(runner),
    async createDatabase(name, o) {
      await engine.createDatabase(name, o);
    },
    async createTable(database, name, o = {}) {
      return info(await engine.createTable(database, name, retentionOf(DEFAULT_RETENTION, o)));
    },
    async updateTable(database, name, o) {
      const current = engine.catalog.table(database, name).retention;
      return info(await engine.updateTable(database, name, retentionOf(current, o)));
    },
    deleteTable: (database, name) => engine.deleteTable(database, name),
    deleteDatabase: (name) => engine.deleteDatabase(name),
    query: (queryString, o = {}) =>
      runner.query({
        QueryString: queryString,
        ...(o.maxRows !== undefined ? { MaxRows: o.maxRows } : {}),
        ...(o.nextToken !== undefined ? { NextToken: o.nextToken } : {}),
      }),
    async close() {
      await engine.close();
      log.info('store closed');
    },
  };
}
