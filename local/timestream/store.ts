/**
 * The store behind both Timestream APIs: one DuckDB file under the service's directory,
 * one connection for writes (serialised, so a batch's reads and writes see one state) and one
 * for queries. Close checkpoints the write-ahead log into the database file.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as DuckDB from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { arn, type CloudIdentity, StateFileError } from '../common';
import { Catalog, checkRetention, type DatabaseMeta, type TableMeta } from './catalog';
import { conflict, storeClosed } from './errors';
import { DATABASE_FILE, type RetentionSettings } from './types';
import { checkName, parseWriteRecords } from './write/records';
import { TableWriter, type WriteOutcome } from './write/writer';

/** A database file DuckDB cannot open or read (truncated, overwritten): named, with the way out. */
function damagedDatabase(file: string, err: unknown): StateFileError {
  return new StateFileError(
    `state file ${file} (the Timestream databases, tables and readings) cannot be opened: ${(err as Error).message}. ` +
      'The local cloud will not start without it rather than lose the readings: restore it from a backup, or move it away to start Timestream empty (the next deploy creates the databases and tables again; the readings are lost)',
    { cause: err },
  );
}

/**
 * DuckDB's Node API is CommonJS that re-exports dozens of files; imported from an ES module,
 * Node scans each of them for export names before running any (a third of the local cloud's
 * start-up). Loaded with `require`, it is only run.
 */
const duckdb = (): typeof DuckDB => createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB;

/** Runs async tasks one at a time, in call order. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => {});
    return next;
  }
}

export class TimestreamStore {
  private readonly writes = new Serial();
  private readonly reads = new Serial();
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writeConn: DuckDBConnection,
    private readonly readConn: DuckDBConnection,
    readonly catalog: Catalog,
    private readonly writer: TableWriter,
    readonly now: () => number,
  ) {}

  static async open(dir: string, identity: CloudIdentity, now: () => number): Promise<TimestreamStore> {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, DATABASE_FILE);
    const instance = await duckdb()
      .DuckDBInstance.create(file)
      .catch((err: unknown) => {
        const held = /Conflicting lock is held in .*\(PID (\d+)\)/.exec(String(err));
        if (!held) throw damagedDatabase(file, err);
        throw new Error(
          `Another process (PID ${held[1]}) has the local cloud's state open (${file}): stop it first (Ctrl-C where it runs), or give this one another state dir (--state-dir)`,
        );
      });
    try {
      const writeConn = await instance.connect();
      const readConn = await instance.connect();
      const catalog = await Catalog.load(writeConn, arn(identity, 'kms', 'key/aws-timestream-local'));
      return new TimestreamStore(
        instance,
        writeConn,
        readConn,
        catalog,
        new TableWriter(writeConn, catalog),
        now,
      );
    } catch (err) {
      instance.closeSync();
      throw /IO Error|Corrupt|INTERNAL Error|Serialization Error/i.test(String(err))
        ? damagedDatabase(file, err)
        : err;
    }
  }

  private guard(): void {
    if (this.closed) throw storeClosed();
  }

  /** WriteRecords: validation errors throw; per-record rejections come back in the outcome. */
  writeRecords(body: unknown): Promise<WriteOutcome> {
    const input = parseWriteRecords(body);
    return this.writes.run(async () => {
      this.guard();
      const t = this.catalog.table(input.databaseName, input.tableName);
      return this.writer.write(t, input.records, this.now());
    });
  }

  /** CreateDatabase API: ConflictException if it exists. */
  createDatabaseStrict(name: string, kmsKeyId?: string): Promise<DatabaseMeta> {
    return this.writes.run(async () => {
      this.guard();
      if (this.catalog.databases.has(name)) {
        throw conflict(`A database with name ${name} already exists.`);
      }
      return this.catalog.createDatabase(name, this.now(), kmsKeyId);
    });
  }

  /** Deployer path: creates the database unless it exists. */
  createDatabase(name: string, opts: { kmsKeyId?: string } = {}): Promise<DatabaseMeta> {
    checkName('database', name);
    return this.writes.run(async () => {
      this.guard();
      return this.catalog.databases.get(name) ?? this.catalog.createDatabase(name, this.now(), opts.kmsKeyId);
    });
  }

  deleteDatabase(name: string): Promise<void> {
    return this.writes.run(async () => {
      this.guard();
      await this.catalog.deleteDatabase(name);
    });
  }

  /** CreateTable API: ConflictException if it exists. */
  createTableStrict(db: string, name: string, retention: RetentionSettings): Promise<TableMeta> {
    checkRetention(retention);
    return this.writes.run(async () => {
      this.guard();
      this.catalog.database(db);
      if (this.catalog.find(db, name)) {
        throw conflict(`A table with name ${name} already exists in database ${db}.`);
      }
      return this.catalog.createTable(db, name, retention, this.now());
    });
  }

  /** Deployer path: creates the table, or updates its retention and keeps its data. */
  createTable(db: string, name: string, retention: RetentionSettings): Promise<TableMeta> {
    checkName('database', db);
    checkName('table', name);
    checkRetention(retention);
    return this.writes.run(async () => {
      this.guard();
      this.catalog.database(db);
      const existing = this.catalog.find(db, name);
      if (!existing) return this.catalog.createTable(db, name, retention, this.now());
      if (!sameRetention(existing.retention, retention)) {
        await this.catalog.updateTable(existing, retention, this.now());
      }
      return existing;
    });
  }

  updateTable(db: string, name: string, retention: RetentionSettings): Promise<TableMeta> {
    checkRetention(retention);
    return this.writes.run(async () => {
      this.guard();
      const t = this.catalog.table(db, name);
      await this.catalog.updateTable(t, retention, this.now());
      return t;
    });
  }

  deleteTable(db: string, name: string): Promise<void> {
    return this.writes.run(async () => {
      this.guard();
      await this.catalog.deleteTable(this.catalog.table(db, name));
    });
  }

  /** Runs a read-only statement on the query connection. */
  read<T>(task: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.reads.run(async () => {
      this.guard();
      return task(this.readConn);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Wait for work in flight, then fold the WAL into the database file.
    await this.writes.run(async () => {});
    await this.reads.run(async () => {});
    this.closed = true;
    try {
      await this.writeConn.run('CHECKPOINT');
    } finally {
      this.readConn.closeSync();
      this.writeConn.closeSync();
      this.instance.closeSync();
    }
  }
}

function sameRetention(a: RetentionSettings, b: RetentionSettings): boolean {
  return (
    a.memoryStoreRetentionHours === b.memoryStoreRetentionHours &&
    a.magneticStoreRetentionDays === b.magneticStoreRetentionDays &&
    a.enableMagneticStoreWrites === b.enableMagneticStoreWrites
  );
}
