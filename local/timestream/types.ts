import type { CloudIdentity, LocalLogger } from '../common';
import type { ServiceRoute } from '../gateway';

/** The service's one state file, under its directory: the DuckDB database. */
export const DATABASE_FILE = 'timestream.duckdb';

export type ScalarMeasureType = 'DOUBLE' | 'BIGINT' | 'VARCHAR' | 'BOOLEAN' | 'TIMESTAMP';
export type MeasureValueType = ScalarMeasureType | 'MULTI';

export interface RetentionSettings {
  /** Memory store retention, 1-8766 hours (CreateTable default 6). */
  readonly memoryStoreRetentionHours: number;
  /** Magnetic store retention, 1-73000 days (CreateTable default 73000). */
  readonly magneticStoreRetentionDays: number;
  /** MagneticStoreWriteProperties.EnableMagneticStoreWrites (default false). */
  readonly enableMagneticStoreWrites: boolean;
}

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

export interface Datum {
  readonly ScalarValue?: string;
  readonly NullValue?: boolean;
}

export interface QueryResult {
  readonly QueryId: string;
  readonly NextToken?: string;
  readonly Rows: Array<{ Data: Datum[] }>;
  readonly ColumnInfo: Array<{ Name: string; Type: { ScalarType: string } }>;
  readonly QueryStatus: {
    ProgressPercentage: number;
    CumulativeBytesScanned: number;
    CumulativeBytesMetered: number;
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
