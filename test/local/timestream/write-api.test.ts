import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimestreamService } from '../../../local/timestream';
import { call, jsonRequest, openService, tempDir } from './helpers';

let service: TimestreamService;
const tmp = tempDir();

beforeAll(async () => {
  service = await openService(tmp.dir);
});

afterAll(async () => {
  await service.close();
  tmp.remove();
});

describe('Timestream write API operations', () => {
  it('answers DescribeEndpoints with the host name the client used, without the port', async () => {
    const r = await call(service.writeRoute, 'DescribeEndpoints', {});
    expect(r.body).toEqual({ Endpoints: [{ Address: '127.0.0.1', CachePeriodInMinutes: 1440 }] });
  });

  it('routes write operations to the write route and Query to the query route', () => {
    expect(service.writeRoute.matches(jsonRequest('WriteRecords', {}))).toBe(true);
    expect(service.writeRoute.matches(jsonRequest('Query', {}))).toBe(false);
    expect(service.queryRoute.matches(jsonRequest('Query', {}))).toBe(true);
    expect(service.queryRoute.matches(jsonRequest('DescribeEndpoints', {}))).toBe(true);
  });

  it('creates, lists and deletes databases and tables', async () => {
    expect(
      (await call(service.writeRoute, 'CreateDatabase', { DatabaseName: 'ops' })).body.Database.DatabaseName,
    ).toBe('ops');
    await call(service.writeRoute, 'CreateTable', {
      DatabaseName: 'ops',
      TableName: 't',
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
    const listed = await call(service.writeRoute, 'ListTables', { DatabaseName: 'ops' });
    expect(listed.body.Tables.map((t: { TableName: string }) => t.TableName)).toEqual(['t']);
    expect(listed.body.Tables[0].RetentionProperties).toEqual({
      MemoryStoreRetentionPeriodInHours: 6,
      MagneticStoreRetentionPeriodInDays: 73000,
    });
    const db = await call(service.writeRoute, 'DescribeDatabase', { DatabaseName: 'ops' });
    expect(db.body.Database.TableCount).toBe(1);
    await call(service.writeRoute, 'DeleteTable', { DatabaseName: 'ops', TableName: 't' });
    await call(service.writeRoute, 'DeleteDatabase', { DatabaseName: 'ops' });
    const gone = await call(service.writeRoute, 'DescribeDatabase', { DatabaseName: 'ops' });
    expect(gone.error?.code).toBe('ResourceNotFoundException');
  });

  it('refuses to delete a database that still has tables', async () => {
    await service.createDatabase('full');
    await service.createTable('full', 't');
    const r = await call(service.writeRoute, 'DeleteDatabase', { DatabaseName: 'full' });
    expect(r.error?.code).toBe('ValidationException');
  });

  it('refuses a table with memory retention out of range', async () => {
    await service.createDatabase('ranges');
    const r = await call(service.writeRoute, 'CreateTable', {
      DatabaseName: 'ranges',
      TableName: 't',
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 0, MagneticStoreRetentionPeriodInDays: 1 },
    });
    expect(r.error?.code).toBe('ValidationException');
  });

  it('updates retention with UpdateTable', async () => {
    await service.createDatabase('upd');
    await service.createTable('upd', 't');
    const r = await call(service.writeRoute, 'UpdateTable', {
      DatabaseName: 'upd',
      TableName: 't',
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 48, MagneticStoreRetentionPeriodInDays: 10 },
    });
    expect(r.body.Table.RetentionProperties).toEqual({
      MemoryStoreRetentionPeriodInHours: 48,
      MagneticStoreRetentionPeriodInDays: 10,
    });
  });

  it('refuses a body that is not JSON with SerializationException', async () => {
    const req = { ...jsonRequest('WriteRecords', {}), body: Buffer.from('{not json') };
    await expect(service.writeRoute.handle(req)).rejects.toMatchObject({ code: 'SerializationException' });
  });

  it('refuses an operation it does not emulate', async () => {
    const r = await call(service.writeRoute, 'CreateBatchLoadTask', {});
    expect(r.error?.code).toBe('UnknownOperationException');
  });
});
