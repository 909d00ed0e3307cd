import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimestreamService } from '../../../local/timestream';
import { call, HOUR, NOW, openService, readingRecord, tempDir } from './helpers';

let service: TimestreamService;
const tmp = tempDir();
let tableNo = 0;

beforeAll(async () => {
  service = await openService(tmp.dir);
  await service.createDatabase('db');
});

afterAll(async () => {
  await service.close();
  tmp.remove();
});

/** A fresh table per test, so cases stay independent. */
async function freshTable(opts: Parameters<TimestreamService['createTable']>[2] = {}) {
  const name = `t${++tableNo}`;
  await service.createTable('db', name, { memoryStoreRetentionHours: 6, ...opts });
  return name;
}

const single = (over: Record<string, unknown> = {}) => ({
  Dimensions: [{ Name: 'zone', Value: 'lobby' }],
  MeasureName: 'temperature',
  MeasureValue: '21.5',
  MeasureValueType: 'DOUBLE',
  Time: String(NOW - 60_000),
  ...over,
});

async function write(table: string, records: unknown[], extra: Record<string, unknown> = {}) {
  return call(service.writeRoute, 'WriteRecords', {
    DatabaseName: 'db',
    TableName: table,
    Records: records,
    ...extra,
  });
}

async function count(table: string) {
  const r = await service.query(`SELECT count(*) FROM "db"."${table}"`);
  return Number(r.Rows[0]?.Data[0]?.ScalarValue);
}

describe('WriteRecords request validation (API Reference: WriteRecords, Record; Developer Guide: Quotas)', () => {
  it('stores multi-measure readings and reports them as memory-store writes', async () => {
    const t = await freshTable();
    const r = await write(t, [
      readingRecord({
        zone: 'lobby',
        time: NOW - 60_000,
        temperature: 21.5,
        humidity: 40,
        co2: 600,
        light: 300,
        occupancy: 2,
        seq: 1,
      }),
      readingRecord({ zone: 'lobby', time: NOW - 30_000, temperature: 21.6, seq: 2 }),
    ]);
    expect(r.body).toEqual({ RecordsIngested: { Total: 2, MemoryStore: 2, MagneticStore: 0 } });
    expect(await count(t)).toBe(2);
  });

  it('refuses an empty Records list with ValidationException', async () => {
    const t = await freshTable();
    const r = await write(t, []);
    expect(r.error?.code).toBe('ValidationException');
    expect(r.error?.status).toBe(400);
  });

  it('refuses more than 100 records with ValidationException', async () => {
    const t = await freshTable();
    const records = Array.from({ length: 101 }, (_, i) => single({ Time: String(NOW - 1000 - i) }));
    const r = await write(t, records);
    expect(r.error?.code).toBe('ValidationException');
    expect(await count(t)).toBe(0);
  });

  it('merges CommonAttributes into each record', async () => {
    const t = await freshTable();
    const r = await write(
      t,
      [
        { Dimensions: [{ Name: 'thing', Value: 'a' }], MeasureValue: '1.5' },
        { Dimensions: [{ Name: 'thing', Value: 'b' }], MeasureValue: '2.5', Time: String(NOW - 1000) },
      ],
      {
        CommonAttributes: {
          Dimensions: [{ Name: 'zone', Value: 'lobby' }],
          MeasureName: 'temperature',
          MeasureValueType: 'DOUBLE',
          Time: String(NOW - 2000),
        },
      },
    );
    expect(r.body.RecordsIngested.Total).toBe(2);
    const q = await service.query(
      `SELECT zone, thing, to_milliseconds(time) AS ms, measure_value::double AS v FROM "db"."${t}" ORDER BY thing`,
    );
    expect(q.Rows.map((row) => row.Data.map((d) => d.ScalarValue))).toEqual([
      ['lobby', 'a', String(NOW - 2000), '1.5'],
      ['lobby', 'b', String(NOW - 1000), '2.5'],
    ]);
  });

  it('refuses a record whose dimension name is also in CommonAttributes', async () => {
    const t = await freshTable();
    const r = await write(t, [single()], {
      CommonAttributes: { Dimensions: [{ Name: 'zone', Value: 'east' }] },
    });
    expect(r.error?.code).toBe('ValidationException');
    expect(r.error?.message).toContain("'zone'");
  });

  it('refuses a dimension name longer than 60 bytes', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ Dimensions: [{ Name: 'd'.repeat(61), Value: 'x' }] })]);
    expect(r.error?.code).toBe('ValidationException');
  });

  it('refuses a measure name longer than 256 bytes', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ MeasureName: 'm'.repeat(257) })]);
    expect(r.error?.code).toBe('ValidationException');
  });

  it.each(['time', 'measure_name', 'measure_value::double', 'ts_zone', 'a:b'])(
    'refuses the reserved dimension name %s',
    async (name) => {
      const t = await freshTable();
      const r = await write(t, [single({ Dimensions: [{ Name: name, Value: 'x' }] })]);
      expect(r.error?.code).toBe('ValidationException');
    },
  );

  it('refuses a measure value that does not parse as its type', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ MeasureValue: 'warm' })]);
    expect(r.error?.code).toBe('ValidationException');
    expect(r.error?.message).toContain('not a valid DOUBLE');
  });

  it('refuses a BIGINT measure with a fraction', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ MeasureValue: '1.5', MeasureValueType: 'BIGINT' })]);
    expect(r.error?.code).toBe('ValidationException');
  });

  it('refuses an unknown MeasureValueType', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ MeasureValueType: 'FLOAT' })]);
    expect(r.error?.code).toBe('ValidationException');
  });

  it('refuses a MULTI record without MeasureValues', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ MeasureValueType: 'MULTI', MeasureValue: undefined })]);
    expect(r.error?.code).toBe('ValidationException');
  });

  it('refuses MeasureValues on a record that is not MULTI', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ MeasureValues: [{ Name: 'a', Value: '1', Type: 'DOUBLE' }] })]);
    expect(r.error?.code).toBe('ValidationException');
  });

  it('refuses a time that is not a string of digits', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ Time: '2026-11-23T20:00:00Z' })]);
    expect(r.error?.code).toBe('ValidationException');
    expect(r.error?.message).toContain('Invalid time for record');
  });

  it('refuses an unknown TimeUnit', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ TimeUnit: 'MINUTES' })]);
    expect(r.error?.code).toBe('ValidationException');
  });

  it('reads Time in the given TimeUnit', async () => {
    const t = await freshTable();
    const seconds = Math.floor((NOW - 60_000) / 1000);
    await write(t, [single({ Time: String(seconds), TimeUnit: 'SECONDS' })]);
    const q = await service.query(`SELECT to_milliseconds(time) FROM "db"."${t}"`);
    expect(q.Rows[0]?.Data[0]?.ScalarValue).toBe(String(seconds * 1000));
  });

  it('refuses Version 0', async () => {
    const t = await freshTable();
    const r = await write(t, [single({ Version: 0 })]);
    expect(r.error?.code).toBe('ValidationException');
  });

  it('fails with ResourceNotFoundException for an unknown table', async () => {
    const r = await write('missing', [single()]);
    expect(r.error?.code).toBe('ResourceNotFoundException');
    expect(r.error?.status).toBe(404);
  });

  it('fails with ResourceNotFoundException for an unknown database', async () => {
    const r = await call(service.writeRoute, 'WriteRecords', {
      DatabaseName: 'nope',
      TableName: 't',
      Records: [single()],
    });
    expect(r.error?.code).toBe('ResourceNotFoundException');
  });
});

describe('per-record rejection (API Reference: RejectedRecord, RejectedRecordsException)', () => {
  it('rejects a record older than the memory store retention and stores the rest', async () => {
    const t = await freshTable();
    const r = await write(t, [
      single(),
      single({ Time: String(NOW - 7 * HOUR) }),
      single({ Time: String(NOW - 2000) }),
    ]);
    expect(r.error?.code).toBe('RejectedRecordsException');
    expect(r.error?.status).toBe(419);
    const rejected = r.error?.fields['RejectedRecords'] as Array<{ RecordIndex: number; Reason: string }>;
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.RecordIndex).toBe(1);
    expect(rejected[0]?.Reason).toContain('outside the time range');
    expect(await count(t)).toBe(2);
  });

  it('rejects a record more than 15 minutes in the future', async () => {
    const t = await freshTable();
    const r = await write(t, [
      single({ Time: String(NOW + 16 * 60_000) }),
      single({ Time: String(NOW + 14 * 60_000) }),
    ]);
    const rejected = r.error?.fields['RejectedRecords'] as Array<{ RecordIndex: number }>;
    expect(rejected.map((x) => x.RecordIndex)).toEqual([0]);
    expect(await count(t)).toBe(1);
  });

  it('stores an old record in the magnetic store when magnetic writes are enabled', async () => {
    const t = await freshTable({ enableMagneticStoreWrites: true });
    const r = await write(t, [single({ Time: String(NOW - 48 * HOUR) }), single()]);
    expect(r.body).toEqual({ RecordsIngested: { Total: 2, MemoryStore: 1, MagneticStore: 1 } });
  });

  it('rejects a record older than the magnetic retention even with magnetic writes', async () => {
    const t = await freshTable({ enableMagneticStoreWrites: true, magneticStoreRetentionDays: 1 });
    const r = await write(t, [single({ Time: String(NOW - 48 * HOUR) })]);
    expect(r.error?.code).toBe('RejectedRecordsException');
  });

  it('keeps rejecting the newly added window right after memory retention is increased', async () => {
    const t = await freshTable({ memoryStoreRetentionHours: 1 });
    await service.updateTable('db', t, { memoryStoreRetentionHours: 12 });
    const r = await write(t, [
      single({ Time: String(NOW - 3 * HOUR) }),
      single({ Time: String(NOW - 30 * 60_000) }),
    ]);
    const rejected = r.error?.fields['RejectedRecords'] as Array<{ RecordIndex: number }>;
    expect(rejected.map((x) => x.RecordIndex)).toEqual([0]);
  });

  it('rejects a measure whose type differs from the table column', async () => {
    const t = await freshTable();
    await write(t, [readingRecord({ zone: 'lobby', time: NOW - 60_000, temperature: 21 })]);
    const bad = readingRecord({ zone: 'lobby', time: NOW - 30_000 });
    bad.MeasureValues = [{ Name: 'temperature', Value: '21', Type: 'BIGINT' as 'DOUBLE' }];
    const r = await write(t, [bad]);
    const rejected = r.error?.fields['RejectedRecords'] as Array<{ Reason: string }>;
    expect(rejected[0]?.Reason).toContain('has type DOUBLE');
  });

  it('rejects a single-measure record whose measure name already holds another type', async () => {
    const t = await freshTable();
    await write(t, [single()]);
    const r = await write(t, [
      single({ MeasureValue: '3', MeasureValueType: 'BIGINT', Time: String(NOW - 1000) }),
    ]);
    expect(r.error?.code).toBe('RejectedRecordsException');
  });
});

describe('version-based upserts (API Reference: WriteRecords > Upserts)', () => {
  it('rejects the same identity with a different value and no version, naming the existing version', async () => {
    const t = await freshTable();
    await write(t, [single()]);
    const r = await write(t, [single({ MeasureValue: '22.5' })]);
    const rejected = r.error?.fields['RejectedRecords'] as Array<{
      RecordIndex: number;
      ExistingVersion: number;
    }>;
    expect(rejected).toEqual([expect.objectContaining({ RecordIndex: 0, ExistingVersion: 1 })]);
  });

  it('accepts the same value again without a version and keeps one row', async () => {
    const t = await freshTable();
    await write(t, [single()]);
    const r = await write(t, [single()]);
    expect(r.body.RecordsIngested.Total).toBe(1);
    expect(await count(t)).toBe(1);
  });

  it('updates the value when the version is higher', async () => {
    const t = await freshTable();
    await write(t, [single()]);
    await write(t, [single({ MeasureValue: '25', Version: 2 })]);
    const q = await service.query(`SELECT measure_value::double FROM "db"."${t}"`);
    expect(q.Rows.map((row) => row.Data[0]?.ScalarValue)).toEqual(['25.0']);
  });

  it('raises only the version when the value is the same and the version higher', async () => {
    const t = await freshTable();
    await write(t, [single()]);
    await write(t, [single({ Version: 3 })]);
    const r = await write(t, [single({ MeasureValue: '30', Version: 3 })]);
    const rejected = r.error?.fields['RejectedRecords'] as Array<{ ExistingVersion: number }>;
    expect(rejected[0]?.ExistingVersion).toBe(3);
  });

  it('rejects a lower version with AWS wording', async () => {
    const t = await freshTable();
    await write(t, [single({ Version: 200 })]);
    const r = await write(t, [single({ MeasureValue: '1', Version: 2 })]);
    const rejected = r.error?.fields['RejectedRecords'] as Array<{ Reason: string; ExistingVersion: number }>;
    expect(rejected[0]).toEqual({
      RecordIndex: 0,
      Reason:
        'The record version 2 is lower than the existing version 200. A higher version is required to update the measure value.',
      ExistingVersion: 200,
    });
  });

  it('applies upserts between records of the same batch in order', async () => {
    const t = await freshTable();
    const r = await write(t, [
      single(),
      single({ MeasureValue: '30', Version: 2 }),
      single({ MeasureValue: '31' }),
    ]);
    const rejected = r.error?.fields['RejectedRecords'] as Array<{
      RecordIndex: number;
      ExistingVersion: number;
    }>;
    expect(rejected).toEqual([expect.objectContaining({ RecordIndex: 2, ExistingVersion: 2 })]);
    const q = await service.query(`SELECT measure_value::double FROM "db"."${t}"`);
    expect(q.Rows.map((row) => row.Data[0]?.ScalarValue)).toEqual(['30.0']);
  });

  it('replaces a multi-measure record when its version is higher', async () => {
    const t = await freshTable();
    await write(t, [readingRecord({ zone: 'lobby', time: NOW - 60_000, temperature: 21, seq: 1 })]);
    await write(t, [readingRecord({ zone: 'lobby', time: NOW - 60_000, temperature: 23, seq: 1 }, 2)]);
    const q = await service.query(`SELECT temperature, seq FROM "db"."${t}"`);
    expect(q.Rows.map((row) => row.Data.map((d) => d.ScalarValue))).toEqual([['23.0', '1']]);
  });
});
