import {
  RejectedRecordsException,
  ThrottlingException,
  ValidationException,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { READING_MEASURE_NAME, SEQUENCE_MEASURE } from '../../contracts';
import type { ReadingRecord } from '../../lambda/shared/telemetry-store';
import {
  StoreRequestError,
  StoreThrottledError,
  StoreUnavailableError,
} from '../../lambda/shared/telemetry-store';
import { TimestreamStore, toTimestreamRecord } from '../../lambda/shared/timestream-store';
import { TS, timestreamClient } from './fixtures';

const client = timestreamClient();
const mock = mockClient(client);
const delays: number[] = [];

afterEach(() => {
  mock.reset();
  delays.length = 0;
});

function store(maxAttempts = 4) {
  return new TimestreamStore({
    client,
    database: 'db',
    table: 'readings',
    backoff: { maxAttempts, baseDelayMs: 100, maxDelayMs: 1_000 },
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.999,
  });
}

const records = (n: number): ReadingRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    building: 'hq',
    zone: 'z1',
    thing: `t${i % 7}`,
    reading: { ts: TS + i, seq: i, temperature: 20 + i / 100 },
  }));

const throttled = () =>
  new ThrottlingException({
    message: 'Rate exceeded',
    Message: 'Rate exceeded',
    $metadata: { httpStatusCode: 429 },
  });

describe('toTimestreamRecord', () => {
  it('builds one multi-measure record with the address as dimensions and the reading time in ms', () => {
    const record = toTimestreamRecord({
      building: 'hq',
      zone: 'lobby',
      thing: 'hq-lobby-climate',
      reading: { ts: TS, seq: 41, temperature: 21.5, occupancy: 3, co2: 700 },
    });
    expect(record).toEqual({
      Dimensions: [
        { Name: 'building', Value: 'hq', DimensionValueType: 'VARCHAR' },
        { Name: 'zone', Value: 'lobby', DimensionValueType: 'VARCHAR' },
        { Name: 'thing', Value: 'hq-lobby-climate', DimensionValueType: 'VARCHAR' },
      ],
      MeasureName: READING_MEASURE_NAME,
      MeasureValueType: 'MULTI',
      MeasureValues: [
        { Name: 'temperature', Value: '21.5', Type: 'DOUBLE' },
        { Name: 'occupancy', Value: '3', Type: 'BIGINT' },
        { Name: 'co2', Value: '700', Type: 'DOUBLE' },
        { Name: SEQUENCE_MEASURE, Value: '41', Type: 'BIGINT' },
      ],
      Time: String(TS),
      TimeUnit: 'MILLISECONDS',
    });
  });
});

describe('TimestreamStore', () => {
  it('writes 250 records in 3 WriteRecords calls of at most 100', async () => {
    mock.on(WriteRecordsCommand).resolves({ RecordsIngested: { Total: 100 } });
    const result = await store().write(records(250));
    const calls = mock
      .commandCalls(WriteRecordsCommand)
      .map((c) => c.args[0].input as WriteRecordsCommandInput);
    expect(calls.map((c) => c.Records?.length)).toEqual([100, 100, 50]);
    expect(calls.every((c) => c.DatabaseName === 'db' && c.TableName === 'readings')).toBe(true);
    expect(result.rejected).toEqual([]);
  });

  it('reports rejected records by their index in the whole write and does not resend', async () => {
    mock
      .on(WriteRecordsCommand)
      .resolvesOnce({})
      .rejectsOnce(
        new RejectedRecordsException({
          message: 'One or more records have been rejected.',
          $metadata: { httpStatusCode: 419 },
          RejectedRecords: [
            {
              RecordIndex: 3,
              Reason: 'The record timestamp is outside the time range of the data ingestion window.',
            },
            {
              RecordIndex: 7,
              Reason: 'The record version 1 is lower than the existing version 1.',
              ExistingVersion: 1,
            },
          ],
        }),
      );
    const result = await store().write(records(150));
    expect(result.rejected).toEqual([
      { index: 103, reason: 'The record timestamp is outside the time range of the data ingestion window.' },
      {
        index: 107,
        reason: 'The record version 1 is lower than the existing version 1. (existing version 1)',
      },
    ]);
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(2);
  });

  it('retries a throttled write with growing delays and then succeeds', async () => {
    mock.on(WriteRecordsCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    const result = await store().write(records(10));
    expect(result.rejected).toEqual([]);
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(3);
    expect(delays).toEqual([99, 199]);
  });

  it('fails with StoreThrottledError once throttling outlasts the attempts', async () => {
    mock.on(WriteRecordsCommand).rejects(throttled());
    const error = await store(3)
      .write(records(10))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreThrottledError);
    expect((error as StoreThrottledError).attempts).toBe(3);
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(3);
  });

  it('caps the backoff delay at the maximum', async () => {
    mock.on(WriteRecordsCommand).rejects(throttled());
    await store(7)
      .write(records(1))
      .catch(() => undefined);
    expect(Math.max(...delays)).toBeLessThan(1_000);
  });

  it('fails with StoreRequestError on a request the service refuses as a whole, without retrying', async () => {
    mock
      .on(WriteRecordsCommand)
      .rejects(new ValidationException({ message: 'bad', Message: 'bad', $metadata: {} }));
    await expect(store().write(records(1))).rejects.toBeInstanceOf(StoreRequestError);
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(1);
  });

  it('fails with StoreUnavailableError when the connection is refused', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    mock.on(WriteRecordsCommand).rejects(refused);
    await expect(store(2).write(records(1))).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('writes nothing for no records', async () => {
    await store().write([]);
    expect(mock.commandCalls(WriteRecordsCommand)).toHaveLength(0);
  });
});
