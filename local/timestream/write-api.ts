/**
 * The Timestream write API as a gateway route (awsJson1_0, `Timestream_20181101.<Op>`,
 * signing name `timestream`; aws-semantics §5). Database and table operations follow the
 * timestream-write API reference; WriteRecords follows §5.3-5.6.
 */

import type { CloudIdentity } from '../common/account';
import { arn } from '../common/account';
import type { LocalLogger } from '../common/log';
import { parseJsonObject } from '../gateway';
import type { AwsRequest, AwsResponse, ServiceRoute } from '../gateway/types';
import { type DatabaseMeta, DEFAULT_RETENTION, type RetentionSettings, type TableMeta } from './catalog';
import type { TimestreamEngine } from './engine';
import { notEmulated, rejectedRecords, validation } from './errors';
import { describeEndpoints, ok, operationOf, QUERY_OPERATIONS } from './protocol';
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

export function createWriteRoute(
  engine: TimestreamEngine,
  identity: CloudIdentity,
  log: LocalLogger,
): ServiceRoute {
  const handlers: Record<string, (body: Record<string, unknown>, req: AwsRequest) => Promise<AwsResponse>> = {
    DescribeEndpoints: async (_b, req) => describeEndpoints(req),

    WriteRecords: async (body) => {
      const result = await engine.writeRecords(body);
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
      const db = await engine.createDatabaseStrict(name, kms);
      return ok({ Database: databaseShape(identity, db, 0) });
    },

    DescribeDatabase: async (body) => {
      const db = engine.catalog.database(String(body['DatabaseName'] ?? ''));
      return ok({ Database: databaseShape(identity, db, engine.catalog.tablesOf(db.name).length) });
    },

    ListDatabases: async (body) => {
      const all = [...engine.catalog.databases.values()].sort((a, b) => a.name.localeCompare(b.name));
      const { slice, next } = page(all, body);
      return ok({
        Databases: slice.map((db) => databaseShape(identity, db, engine.catalog.tablesOf(db.name).length)),
        ...(next ? { NextToken: next } : {}),
      });
    },

    UpdateDatabase: async (body) => {
      const db = engine.catalog.database(String(body['DatabaseName'] ?? ''));
      return ok({ Database: databaseShape(identity, db, engine.catalog.tablesOf(db.name).length) });
    },

    DeleteDatabase: async (body) => {
      await engine.deleteDatabase(String(body['DatabaseName'] ?? ''));
      return ok({});
    },

    CreateTable: async (body) => {
      const db = checkName('database', body['DatabaseName']);
      const name = checkName('table', body['TableName']);
      const t = await engine.createTableStrict(db, name, retentionFrom(body, DEFAULT_RETENTION));
      return ok({ Table: tableShape(identity, t) });
    },

    DescribeTable: async (body) => {
      const t = engine.catalog.table(String(body['DatabaseName'] ?? ''), String(body['TableName'] ?? ''));
      return ok({ Table: tableShape(identity, t) });
    },

    ListTables: async (body) => {
      const dbName = body['DatabaseName'];
      let all: TableMeta[];
      if (typeof dbName === 'string') {
        engine.catalog.database(dbName);
        all = engine.catalog.tablesOf(dbName);
      } else {
        all = [...engine.catalog.tables.values()];
      }
      all.sort((a, b) => a.database.localeCompare(b.database) || a.name.localeCompare(b.name));
      const { slice, next } = page(all, body);
      return ok({ Tables: slice.map((t) => tableShape(identity, t)), ...(next ? { NextToken: next } : {}) });
    },

    UpdateTable: async (body) => {
      const t = engine.catalog.table(String(body['DatabaseName'] ?? ''), String(body['TableName'] ?? ''));
      const updated = await engine.updateTable(t.database, t.name, retentionFrom(body, t.retention));
      return ok({ Table: tableShape(identity, updated) });
    },

    DeleteTable: async (body) => {
      await engine.deleteTable(String(body['DatabaseName'] ?? ''), String(body['TableName'] ?? ''));
      return ok({});
    },

    ListTagsForResource: async () => ok({ Tags: [] }),
    TagResource: async () => ok({}),
    UntagResource: async () => ok({}),
  };

  return {
    name: 'timestream-write',
    protocol: 'json-1.0',
    internalErrorCode: 'InternalServerException',
    matches(req) {
      const op = operationOf(req);
      return op !== undefined && !QUERY_OPERATIONS.has(op);
    },
    async handle(req) {
      const op = operationOf(req) ?? '';
      const handler = handlers[op];
      if (!handler) throw notEmulated(op);
      return handler(parseJsonObject(req.body), req);
    },
  };
}
