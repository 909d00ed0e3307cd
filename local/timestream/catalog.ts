/**
 * Databases, tables and their column schemas, kept in DuckDB beside the data so a restart
 * finds them again. Each Timestream table is one DuckDB table (`data_<id>`) with fixed columns
 * for identity and single-measure values, plus one column per dimension and per multi-measure
 * attribute, added as records introduce them (Timestream's schema is created on write:
 * Developer Guide "Data modeling", "Multi-measure records").
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { resourceNotFound, validation } from './errors';
import type { MeasureValueType, RetentionSettings, ScalarMeasureType } from './types';

export const DEFAULT_RETENTION: RetentionSettings = {
  memoryStoreRetentionHours: 6,
  magneticStoreRetentionDays: 73000,
  enableMagneticStoreWrites: false,
};

export interface DatabaseMeta {
  readonly name: string;
  readonly createdMs: number;
  updatedMs: number;
  readonly kmsKeyId: string;
}

export type ColumnKind = 'dimension' | 'measure';

export interface ColumnMeta {
  readonly name: string;
  readonly kind: ColumnKind;
  /** VARCHAR for dimensions; the attribute's type for multi-measure attributes. */
  readonly type: ScalarMeasureType;
  readonly physical: string;
}

export interface TableMeta {
  readonly id: number;
  readonly database: string;
  readonly name: string;
  readonly createdMs: number;
  updatedMs: number;
  retention: RetentionSettings;
  /**
   * Earliest time the memory store accepts after a retention increase: AWS keeps rejecting the
   * newly added part of the window until that much time has passed (Developer Guide "Storage").
   */
  memoryFloorNs: bigint | null;
  readonly physical: string;
  /** Dimension and multi-measure attribute columns by logical name. */
  readonly columns: Map<string, ColumnMeta>;
  /** The value type of each measure name (a scalar type, or MULTI). */
  readonly measureTypes: Map<string, MeasureValueType>;
  /** Physical column order, as the appender needs it. */
  readonly physicalOrder: string[];
  /**
   * Latest stored time per (measure name, series). A record later than its series' latest time
   * cannot collide with a stored one, so the writer skips the lookup for it.
   */
  readonly latestNs: Map<string, bigint>;
}

/** Key of TableMeta.latestNs. */
export const seriesOf = (measureName: string, seriesKey: string) => `${measureName}\u0000${seriesKey}`;

/** Fixed columns of every data table, in order. */
export const FIXED_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['time_ns', 'BIGINT'],
  ['series_key', 'VARCHAR'],
  ['measure_name', 'VARCHAR'],
  ['version', 'BIGINT'],
  ['value_key', 'VARCHAR'],
  ['mv_double', 'DOUBLE'],
  ['mv_bigint', 'BIGINT'],
  ['mv_varchar', 'VARCHAR'],
  ['mv_boolean', 'BOOLEAN'],
  ['mv_timestamp', 'BIGINT'],
];

export const SINGLE_VALUE_COLUMN: Readonly<Record<ScalarMeasureType, string>> = {
  DOUBLE: 'mv_double',
  BIGINT: 'mv_bigint',
  VARCHAR: 'mv_varchar',
  BOOLEAN: 'mv_boolean',
  TIMESTAMP: 'mv_timestamp',
};

/** DuckDB storage type of each Timestream scalar type (TIMESTAMP as epoch nanoseconds). */
export const DUCK_TYPE: Readonly<Record<ScalarMeasureType, string>> = {
  DOUBLE: 'DOUBLE',
  BIGINT: 'BIGINT',
  VARCHAR: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'BIGINT',
};

export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

const CATALOG_DDL = [
  `CREATE TABLE IF NOT EXISTS ts_databases (name VARCHAR, created_ms BIGINT, updated_ms BIGINT, kms_key_id VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ts_tables (id INTEGER, db VARCHAR, name VARCHAR, created_ms BIGINT, updated_ms BIGINT,
     memory_hours BIGINT, magnetic_days BIGINT, magnetic_writes BOOLEAN, memory_floor_ns BIGINT, physical VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ts_columns (table_id INTEGER, ordinal INTEGER, name VARCHAR, kind VARCHAR, type VARCHAR, physical VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ts_measures (table_id INTEGER, measure_name VARCHAR, type VARCHAR)`,
];

export function checkRetention(r: RetentionSettings): void {
  const h = r.memoryStoreRetentionHours;
  const d = r.magneticStoreRetentionDays;
  if (!Number.isInteger(h) || h < 1 || h > 8766) {
    throw validation(`MemoryStoreRetentionPeriodInHours ${h} is out of range; it must be 1 to 8766.`);
  }
  if (!Number.isInteger(d) || d < 1 || d > 73000) {
    throw validation(`MagneticStoreRetentionPeriodInDays ${d} is out of range; it must be 1 to 73000.`);
  }
}

/** The catalog: in-memory view of the ts_* tables, changed only through these methods. */
export class Catalog {
  readonly databases = new Map<string, DatabaseMeta>();
  /** Keyed by `${db}\u0000${table}`. */
  readonly tables = new Map<string, TableMeta>();
  private nextTableId = 1;

  private constructor(
    private readonly conn: DuckDBConnection,
    private readonly kmsKeyArn: string,
  ) {}

  static async load(conn: DuckDBConnection, kmsKeyArn: string): Promise<Catalog> {
    for (const ddl of CATALOG_DDL) await conn.run(ddl);
    const c = new Catalog(conn, kmsKeyArn);
    for (const r of (await conn.runAndReadAll('SELECT * FROM ts_databases')).getRowObjectsJS()) {
      c.databases.set(String(r['name']), {
        name: String(r['name']),
        createdMs: Number(r['created_ms']),
        updatedMs: Number(r['updated_ms']),
        kmsKeyId: String(r['kms_key_id']),
      });
    }
    for (const r of (await conn.runAndReadAll('SELECT * FROM ts_tables ORDER BY id')).getRowObjectsJS()) {
      const meta: TableMeta = {
        id: Number(r['id']),
        database: String(r['db']),
        name: String(r['name']),
        createdMs: Number(r['created_ms']),
        updatedMs: Number(r['updated_ms']),
        retention: {
          memoryStoreRetentionHours: Number(r['memory_hours']),
          magneticStoreRetentionDays: Number(r['magnetic_days']),
          enableMagneticStoreWrites: Boolean(r['magnetic_writes']),
        },
        memoryFloorNs: r['memory_floor_ns'] === null ? null : BigInt(r['memory_floor_ns'] as bigint),
        physical: String(r['physical']),
        columns: new Map(),
        measureTypes: new Map(),
        physicalOrder: FIXED_COLUMNS.map(([n]) => n),
        latestNs: new Map(),
      };
      const latest = await conn.runAndReadAll(
        `SELECT measure_name, series_key, max(time_ns) FROM ${meta.physical} GROUP BY measure_name, series_key`,
      );
      for (const [m, sk, t] of latest.getRows())
        meta.latestNs.set(seriesOf(String(m), String(sk)), t as bigint);
      c.tables.set(key(meta.database, meta.name), meta);
      c.nextTableId = Math.max(c.nextTableId, meta.id + 1);
    }
    const byId = new Map([...c.tables.values()].map((t) => [t.id, t]));
    const cols = await conn.runAndReadAll('SELECT * FROM ts_columns ORDER BY table_id, ordinal');
    for (const r of cols.getRowObjectsJS()) {
      const t = byId.get(Number(r['table_id']));
      if (!t) continue;
      const col: ColumnMeta = {
        name: String(r['name']),
        kind: String(r['kind']) as ColumnKind,
        type: String(r['type']) as ScalarMeasureType,
        physical: String(r['physical']),
      };
      t.columns.set(col.name, col);
      t.physicalOrder.push(col.physical);
    }
    for (const r of (await conn.runAndReadAll('SELECT * FROM ts_measures')).getRowObjectsJS()) {
      byId
        .get(Number(r['table_id']))
        ?.measureTypes.set(String(r['measure_name']), String(r['type']) as MeasureValueType);
    }
    return c;
  }

  database(name: string): DatabaseMeta {
    const db = this.databases.get(name);
    if (!db) throw resourceNotFound(`The database ${name} does not exist.`);
    return db;
  }

  /** The table, or undefined when it does not exist. */
  find(db: string, name: string): TableMeta | undefined {
    return this.tables.get(key(db, name));
  }

  table(db: string, name: string): TableMeta {
    this.database(db);
    const t = this.tables.get(key(db, name));
    if (!t) throw resourceNotFound(`The table ${name} does not exist.`);
    return t;
  }

  tablesOf(db: string): TableMeta[] {
    return [...this.tables.values()].filter((t) => t.database === db);
  }

  async createDatabase(name: string, nowMs: number, kmsKeyId?: string): Promise<DatabaseMeta> {
    const meta: DatabaseMeta = {
      name,
      createdMs: nowMs,
      updatedMs: nowMs,
      kmsKeyId: kmsKeyId ?? this.kmsKeyArn,
    };
    await this.conn.run('INSERT INTO ts_databases VALUES ($1, $2, $3, $4)', [
      name,
      BigInt(nowMs),
      BigInt(nowMs),
      meta.kmsKeyId,
    ]);
    this.databases.set(name, meta);
    return meta;
  }

  async deleteDatabase(name: string): Promise<void> {
    this.database(name);
    if (this.tablesOf(name).length > 0) {
      throw validation(`The database ${name} still has tables; delete them before deleting the database.`);
    }
    await this.conn.run('DELETE FROM ts_databases WHERE name = $1', [name]);
    this.databases.delete(name);
  }

  async createTable(
    db: string,
    name: string,
    retention: RetentionSettings,
    nowMs: number,
  ): Promise<TableMeta> {
    const id = this.nextTableId++;
    const physical = `data_${id}`;
    const cols = FIXED_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ');
    await this.conn.run('BEGIN TRANSACTION');
    try {
      await this.conn.run(`CREATE TABLE ${physical} (${cols})`);
      await this.conn.run('INSERT INTO ts_tables VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)', [
        id,
        db,
        name,
        BigInt(nowMs),
        BigInt(nowMs),
        BigInt(retention.memoryStoreRetentionHours),
        BigInt(retention.magneticStoreRetentionDays),
        retention.enableMagneticStoreWrites,
        physical,
      ]);
      await this.conn.run('COMMIT');
    } catch (err) {
      await this.conn.run('ROLLBACK');
      throw err;
    }
    const meta: TableMeta = {
      id,
      database: db,
      name,
      createdMs: nowMs,
      updatedMs: nowMs,
      retention,
      memoryFloorNs: null,
      physical,
      columns: new Map(),
      measureTypes: new Map(),
      physicalOrder: FIXED_COLUMNS.map(([n]) => n),
      latestNs: new Map(),
    };
    this.tables.set(key(db, name), meta);
    return meta;
  }

  async updateTable(t: TableMeta, retention: RetentionSettings, nowMs: number): Promise<void> {
    let floor = t.memoryFloorNs;
    const before = t.retention.memoryStoreRetentionHours;
    if (retention.memoryStoreRetentionHours > before) {
      // The newly added part of the window fills only as time passes.
      const oldStart = BigInt(nowMs) * 1_000_000n - BigInt(before) * 3_600_000_000_000n;
      floor = floor === null || oldStart > floor ? oldStart : floor;
    }
    await this.conn.run(
      `UPDATE ts_tables SET memory_hours = $1, magnetic_days = $2, magnetic_writes = $3, memory_floor_ns = $4,
         updated_ms = $5 WHERE id = $6`,
      [
        BigInt(retention.memoryStoreRetentionHours),
        BigInt(retention.magneticStoreRetentionDays),
        retention.enableMagneticStoreWrites,
        floor,
        BigInt(nowMs),
        t.id,
      ],
    );
    t.retention = retention;
    t.memoryFloorNs = floor;
    t.updatedMs = nowMs;
  }

  async deleteTable(t: TableMeta): Promise<void> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      await this.conn.run(`DROP TABLE IF EXISTS ${t.physical}`);
      for (const sql of [
        'DELETE FROM ts_tables WHERE id = $1',
        'DELETE FROM ts_columns WHERE table_id = $1',
        'DELETE FROM ts_measures WHERE table_id = $1',
      ]) {
        await this.conn.run(sql, [t.id]);
      }
      await this.conn.run('COMMIT');
    } catch (err) {
      await this.conn.run('ROLLBACK');
      throw err;
    }
    this.tables.delete(key(t.database, t.name));
  }

  /**
   * Adds columns and measure types inside the caller's transaction; the caller applies the
   * returned function to the in-memory view after COMMIT.
   */
  async extendSchema(
    t: TableMeta,
    columns: ReadonlyArray<{ name: string; kind: ColumnKind; type: ScalarMeasureType }>,
    measures: ReadonlyArray<{ name: string; type: MeasureValueType }>,
  ): Promise<() => void> {
    const added: ColumnMeta[] = [];
    let ordinal = t.columns.size;
    for (const c of columns) {
      const physical = `${c.kind === 'dimension' ? 'd' : 'm'}_${ordinal}`;
      await this.conn.run(`ALTER TABLE ${t.physical} ADD COLUMN ${physical} ${DUCK_TYPE[c.type]}`);
      await this.conn.run('INSERT INTO ts_columns VALUES ($1, $2, $3, $4, $5, $6)', [
        t.id,
        ordinal,
        c.name,
        c.kind,
        c.type,
        physical,
      ]);
      added.push({ ...c, physical });
      ordinal++;
    }
    for (const m of measures) {
      await this.conn.run('INSERT INTO ts_measures VALUES ($1, $2, $3)', [t.id, m.name, m.type]);
    }
    return () => {
      for (const c of added) {
        t.columns.set(c.name, c);
        t.physicalOrder.push(c.physical);
      }
      for (const m of measures) t.measureTypes.set(m.name, m.type);
    };
  }
}

const key = (db: string, table: string) => `${db}\u0000${table}`;
