import {
  QueryCommand,
  ValidationException as QueryValidationException,
  TimestreamQueryClient,
} from '@aws-sdk/client-timestream-query';
import {
  ConflictException,
  CreateDatabaseCommand,
  CreateTableCommand,
  DescribeEndpointsCommand,
  DescribeTableCommand,
  ListTablesCommand,
  RejectedRecordsException,
  ResourceNotFoundException,
  TimestreamWriteClient,
  ValidationException,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../local/common/log';
import { createGatewayService, type GatewayService } from '../../../local/gateway';
import type { TimestreamService } from '../../../local/timestream';
import { openService, readingRecord, tempDir } from './helpers';

const tmp = tempDir();
let service: TimestreamService;
let gateway: GatewayService;
let write: TimestreamWriteClient;
let query: TimestreamQueryClient;
// The real clock: the SDK clients and the store agree on "now".
const now = Date.now();
const MIN = 60_000;

beforeAll(async () => {
  service = await openService(tmp.dir, Date.now);
  gateway = await createGatewayService({
    port: 0,
    routes: [service.writeRoute, service.queryRoute],
    logger: silentLogger,
  });
  const config = {
    endpoint: gateway.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  };
  write = new TimestreamWriteClient(config);
  query = new TimestreamQueryClient(config);
  await write.send(new CreateDatabaseCommand({ DatabaseName: 'zonectl' }));
  await write.send(
    new CreateTableCommand({
      DatabaseName: 'zonectl',
      TableName: 'readings',
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 30 },
    }),
  );
});

afterAll(async () => {
  write?.destroy();
  query?.destroy();
  await gateway?.close();
  await service?.close();
  tmp.remove();
});

describe('Timestream through the gateway with the AWS SDK v3', () => {
  it('answers DescribeEndpoints with the gateway host name', async () => {
    const out = await write.send(new DescribeEndpointsCommand({}));
    expect(out.Endpoints).toEqual([
      { Address: new URL(gateway.endpoint).hostname, CachePeriodInMinutes: 1440 },
    ]);
  });

  it('describes and lists the created table', async () => {
    const d = await write.send(new DescribeTableCommand({ DatabaseName: 'zonectl', TableName: 'readings' }));
    expect(d.Table?.RetentionProperties?.MemoryStoreRetentionPeriodInHours).toBe(24);
    expect(d.Table?.Arn).toBe('arn:aws:timestream:us-east-1:000000000000:database/zonectl/table/readings');
    expect(d.Table?.CreationTime).toBeInstanceOf(Date);
    const l = await write.send(new ListTablesCommand({ DatabaseName: 'zonectl' }));
    expect(l.Tables?.map((t) => t.TableName)).toEqual(['readings']);
  });

  it('raises ConflictException for a database that exists', async () => {
    await expect(write.send(new CreateDatabaseCommand({ DatabaseName: 'zonectl' }))).rejects.toBeInstanceOf(
      ConflictException,
    );
  });

  it('writes pipeline-shaped readings and reports the ingested counts', async () => {
    const out = await write.send(
      new WriteRecordsCommand({
        DatabaseName: 'zonectl',
        TableName: 'readings',
        Records: [
          readingRecord({
            zone: 'lobby',
            time: now - 3 * MIN,
            temperature: 21,
            humidity: 40,
            co2: 650,
            light: 300,
            occupancy: 4,
            seq: 1,
          }),
          readingRecord({ zone: 'lobby', time: now - 2 * MIN, temperature: 22, seq: 2 }),
          readingRecord({ zone: 'east', time: now - 2 * MIN, temperature: 19, seq: 1 }),
        ],
      }),
    );
    expect(out.RecordsIngested).toEqual({ Total: 3, MemoryStore: 3, MagneticStore: 0 });
  });

  it('surfaces rejected records as RejectedRecordsException with RejectedRecords', async () => {
    const err = await write
      .send(
        new WriteRecordsCommand({
          DatabaseName: 'zonectl',
          TableName: 'readings',
          Records: [
            readingRecord({ zone: 'west', time: now - MIN, temperature: 20, seq: 1 }),
            readingRecord({ zone: 'west', time: now - 48 * 60 * MIN, temperature: 20, seq: 2 }),
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RejectedRecordsException);
    const rejected = err as RejectedRecordsException;
    expect(rejected.$metadata.httpStatusCode).toBe(419);
    expect(rejected.message).toContain('One or more records have been rejected');
    expect(rejected.RejectedRecords).toEqual([
      { RecordIndex: 1, Reason: expect.stringContaining('outside the time range') },
    ]);
  });

  it('surfaces a version conflict with ExistingVersion', async () => {
    const err = await write
      .send(
        new WriteRecordsCommand({
          DatabaseName: 'zonectl',
          TableName: 'readings',
          Records: [readingRecord({ zone: 'lobby', time: now - 3 * MIN, temperature: 30, seq: 1 })],
        }),
      )
      .catch((e: unknown) => e);
    expect((err as RejectedRecordsException).RejectedRecords?.[0]?.ExistingVersion).toBe(1);
  });

  it('raises ValidationException for a malformed record', async () => {
    const bad = readingRecord({ zone: 'lobby', time: now, temperature: 1 });
    await expect(
      write.send(
        new WriteRecordsCommand({
          DatabaseName: 'zonectl',
          TableName: 'readings',
          Records: [{ ...bad, MeasureValues: [{ Name: 'temperature', Value: 'warm', Type: 'DOUBLE' }] }],
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
  });

  it('raises ResourceNotFoundException for an unknown table', async () => {
    await expect(
      write.send(
        new WriteRecordsCommand({
          DatabaseName: 'zonectl',
          TableName: 'nope',
          Records: [readingRecord({ zone: 'lobby', time: now, temperature: 1 })],
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers the dashboard query through the query client', async () => {
    const out = await query.send(
      new QueryCommand({
        QueryString: `SELECT zone, bin(time, 5m) AS t, avg(temperature) AS temperature FROM "zonectl"."readings" WHERE time > ago(6h) AND measure_name = 'reading' GROUP BY zone, bin(time, 5m) ORDER BY t`,
      }),
    );
    expect(out.ColumnInfo?.map((c) => [c.Name, c.Type?.ScalarType])).toEqual([
      ['zone', 'VARCHAR'],
      ['t', 'TIMESTAMP'],
      ['temperature', 'DOUBLE'],
    ]);
    expect(out.QueryId).toBeTruthy();
    const rows = (out.Rows ?? []).map((r) => r.Data?.map((d) => d.ScalarValue) ?? []);
    const byZone = new Map<string, number>();
    for (const [zone, t, temperature] of rows) {
      expect(t).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d[05]:00\.000000000$/);
      byZone.set(zone!, (byZone.get(zone!) ?? 0) + 1);
      expect(Number(temperature)).toBeGreaterThan(18);
    }
    expect([...byZone.keys()].sort()).toEqual(['east', 'lobby', 'west']);
    const times = rows.map((r) => r[1]!);
    expect([...times].sort()).toEqual(times);
  });

  it('raises the query ValidationException for an unsupported construct', async () => {
    const err = await query
      .send(
        new QueryCommand({
          QueryString: 'SELECT * FROM "zonectl"."readings" a JOIN "zonectl"."readings" b ON true',
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryValidationException);
    expect((err as Error).message).toContain('JOIN');
  });

  it('serves clients configured only by AWS_ENDPOINT_URL_* through endpoint discovery', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_TIMESTREAM_WRITE: gateway.endpoint,
      AWS_ENDPOINT_URL_TIMESTREAM_QUERY: gateway.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
      AWS_SECRET_ACCESS_KEY: 'local-secret',
      AWS_REGION: 'us-east-1',
    });
    // Like a Lambda handler: no endpoint in code, so WriteRecords discovers its endpoint first.
    const envWrite = new TimestreamWriteClient({ maxAttempts: 1 });
    const envQuery = new TimestreamQueryClient({ maxAttempts: 1 });
    try {
      const out = await envWrite.send(
        new WriteRecordsCommand({
          DatabaseName: 'zonectl',
          TableName: 'readings',
          Records: [readingRecord({ zone: 'north', time: now - MIN, temperature: 20.5, seq: 1 })],
        }),
      );
      expect(out.RecordsIngested?.Total).toBe(1);
      const q = await envQuery.send(
        new QueryCommand({
          QueryString: `SELECT temperature FROM "zonectl"."readings" WHERE zone = 'north'`,
        }),
      );
      expect(q.Rows?.[0]?.Data?.[0]?.ScalarValue).toBe('20.5');
    } finally {
      envWrite.destroy();
      envQuery.destroy();
      process.env = saved;
    }
  });
});
