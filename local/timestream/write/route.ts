/**
 * The Timestream write API (timestream-write) as a gateway route: awsJson1_0
 * `Timestream_20181101.<Operation>`, signing name `timestream`. Each operation follows its
 * page in the Amazon Timestream API Reference (CreateDatabase, DescribeDatabase, ListDatabases,
 * UpdateDatabase, DeleteDatabase, CreateTable, DescribeTable, ListTables, UpdateTable,
 * DeleteTable, WriteRecords with its "Upserts" section, DescribeEndpoints).
 */

import { arn, type CloudIdentity, type LocalLogger } from '../../common';
import { type AwsRequest, type AwsResponse, parseJsonObject, type ServiceRoute } from '../../gateway';
import { type DatabaseMeta, DEFAULT_RETENTION, type TableMeta } from '../catalog';
import { notEmulated, rejectedRecords, validation } from '../errors';
import { describeEndpoints, ok, operationOf, WRITE_ROUTE } from '../protocol';
import type { TimestreamStore } from '../store';
import type { RetentionSettings } from '../types';
import { checkName } from './records';

export function databaseArn(identity: CloudIdentity, db: string) {
  return arn(identity, 'timestream', `database/${db}`);
}

function databaseShape(identity: CloudIdentity, db: DatabaseMeta, tableCount: number) {
  return {
    Arn: databaseArn(identity, db.name),
    DatabaseName: db.name,
    TableCount: tableCount,
    KmsKeyId: db.kmsKeyId,
    CreationTime: db.createdMs / 1000,
    LastUpdatedTime: db.updatedMs / 1000,
  };
}

function tableShape(identity: CloudIdentity, t: TableMeta) {
  return {
    Arn: `${databaseArn(identity, t.database)}/table/${t.name}`,
    TableName: t.name,
    DatabaseName: t.database,
    TableStatus: 'ACTIVE',
    RetentionProperties: {
      MemoryStoreRetentionPeriodInHours: t.retention.memoryStoreRetentionHours,
      MagneticStoreRetentionPeriodInDays: t.retention.magneticStoreRetentionDays,
    },
    CreationTime: t.createdMs / 1000,
    LastUpdatedTime: t.updatedMs / 1000,
    MagneticStoreWriteProperties: { EnableMagneticStoreWrites: t.retention.enableMagneticStoreWrites },
    Schema: { CompositePartitionKey: [{ Type: 'MEASURE' }] },
  };
}

/** Reads RetentionProperties / MagneticStoreWriteProperties of CreateTable/UpdateTable. */
function retentionFrom(body: Record<string, unknown>, base: RetentionSettings): RetentionSettings {
  const rp = body['RetentionProperties'] as Record<string, unknown> | undefined;
  const mw = body['MagneticStoreWriteProperties'] as Record<string, unknown> | undefined;
  const num = (v: unknown, name: string, fallback: number) => {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number') throw validation(`${name} must be a number.`);
    return v;
  };
  if (rp !== undefined && (typeof rp !== 'object' || rp === null))
    throw validation('RetentionProperties must be an object.');
  if (mw !== undefined && (typeof mw !== 'object' || mw === null)) {
    throw validation('MagneticStoreWriteProperties must be an object.');
  }
  const enable = mw?.['EnableMagneticStoreWrites'];
  if (enable !== undefined && typeof enable !== 'boolean')
    throw validation('EnableMagneticStoreWrites must be a boolean.');
  return {
    memoryStoreRetentionHours: num(
      rp?.['MemoryStoreRetentionPeriodInHours'],
      'MemoryStoreRetentionPeriodInHours',
      base.memoryStoreRetentionHours,
    ),
    magneticStoreRetentionDays: num(
      rp?.['MagneticStoreRetentionPeriodInDays'],
      'MagneticStoreRetentionPeriodInDays',
      base.magneticStoreRetentionDays,
    ),
    enableMagneticStoreWrites: enable ?? base.enableMagneticStoreWrites,
  };
}

/** ListDatabases/ListTables pagination: NextToken is the offset. */
function page<T>(items: T[], body: Record<string, unknown>) {
  const max = typeof body['MaxResults'] === 'number' ? Math.min(Math.max(1, body['MaxResults']), 20) : 20;
  const token = body['NextToken'];
  const start = typeof token === 'string' && /^\d+$/.test(token) ? Number(token) : 0;
  const slice = items.slice(start, start + max);
  return { slice, next: start + max < items.length ? String(start + max) : undefined };
}

export function createTimestreamWriteRoute(
  store: TimestreamStore,
  identity: CloudIdentity,
  log: LocalLogger,
): ServiceRoute {
  const handlers: Record<string, (body: Record<string, unknown>, req: AwsRequest) => Promise<AwsResponse>> = {
    DescribeEndpoints: async (_b, req) => describeEndpoints(req),

    WriteRecords: async (body) => {
      const result = await store.writeRecords(body);
      if (result.rejected.length > 0) {
        log.warn(
          `WriteRecords ${String(body['DatabaseName'])}.${String(body['TableName'])}: rejected ${result.rejected.length} record(s), first: [${result.rejected[0]!.RecordIndex}] ${result.rejected[0]!.Reason}`,
        );
        throw rejectedRecords(result.rejected);
      }
      return ok({
        RecordsIngested: {
          Total: result.memoryStore + result.magneticStore,
          MemoryStore: result.memoryStore,
          MagneticStore: result.magneticStore,
        },
      });
    },

    CreateDatabase: async (body) => {
      const name = checkName('database', body['DatabaseName']);
      const kms = typeof body['KmsKeyId'] === 'string' ? body['KmsKeyId'] : undefined;
      const db = await store.createDatabaseStrict(name, kms);
      return ok({ Database: databaseShape(identity, db, 0) });
    },

    DescribeDatabase: async (body) => {
      const db = store.catalog.database(String(body['DatabaseName'] ?? ''));
      return ok({ Database: databaseShape(identity, db, store.catalog.tablesOf(db.name).length) });
    },

    ListDatabases: async (body) => {
      const all = [...store.catalog.databases.values()].sort((a, b) => a.name.localeCompare(b.name));
      const { slice, next } = page(all, body);
      return ok({
        Databases: slice.map((db) => databaseShape(identity, db, store.catalog.tablesOf(db.name).length)),
        ...(next ? { NextToken: next } : {}),
      });
    },

    UpdateDatabase: async (body) => {
      const db = store.catalog.database(String(body['DatabaseName'] ?? ''));
      return ok({ Database: databaseShape(identity, db, store.catalog.tablesOf(db.name).length) });
    },

    DeleteDatabase: async (body) => {
      await store.deleteDatabase(String(body['DatabaseName'] ?? ''));
      return ok({});
    },

    CreateTable: async (body) => {
      const db = checkName('database', body['DatabaseName']);
      const name = checkName('table', body['TableName']);
      const t = await store.createTableStrict(db, name, retentionFrom(body, DEFAULT_RETENTION));
      return ok({ Table: tableShape(identity, t) });
    },

    DescribeTable: async (body) => {
      const t = store.catalog.table(String(body['DatabaseName'] ?? ''), String(body['TableName'] ?? ''));
      return ok({ Table: tableShape(identity, t) });
    },

    ListTables: async (body) => {
      const dbName = body['DatabaseName'];
      let all: TableMeta[];
      if (typeof dbName === 'string') {
        store.catalog.database(dbName);
        all = store.catalog.tablesOf(dbName);
      } else {
        all = [...store.catalog.tables.values()];
      }
      all.sort((a, b) => a.database.localeCompare(b.database) || a.name.localeCompare(b.name));
      const { slice, next } = page(all, body);
      return ok({ Tables: slice.map((t) => tableShape(identity, t)), ...(next ? { NextToken: next } : {}) });
    },

    UpdateTable: async (body) => {
      const t = store.catalog.table(String(body['DatabaseName'] ?? ''), String(body['TableName'] ?? ''));
      const updated = await store.updateTable(t.database, t.name, retentionFrom(body, t.retention));
      return ok({ Table: tableShape(identity, updated) });
    },

    DeleteTable: async (body) => {
      await store.deleteTable(String(body['DatabaseName'] ?? ''), String(body['TableName'] ?? ''));
      return ok({});
    },

    ListTagsForResource: async () => ok({ Tags: [] }),
    TagResource: async () => ok({}),
    UntagResource: async () => ok({}),
  };

  return {
    ...WRITE_ROUTE,
    async handle(req) {
      const op = operationOf(req) ?? '';
      // Own keys only: `constructor` or `toString` are not operations.
      const handler = Object.hasOwn(handlers, op) ? handlers[op] : undefined;
      if (!handler) throw notEmulated(op);
      return handler(parseJsonObject(req.body), req);
    },
  };
}
