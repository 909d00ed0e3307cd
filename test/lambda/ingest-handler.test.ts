import { SendMessageBatchCommand, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import {
  RejectedRecordsException,
  ThrottlingException,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import {
  DeadLetterEntrySchema,
  ENV,
  METRIC,
  METRIC_DIMENSION_BUILDING,
  METRICS_NAMESPACE,
  MissingEnvError,
} from '../../contracts';
import { createIngestHandler, createIngestHandlerFromEnv } from '../../lambda/ingest/handler';
import { SqsDeadLetterSink } from '../../lambda/shared/sqs-dead-letter-sink';
import { TimestreamStore } from '../../lambda/shared/timestream-store';
import {
  ingestBody,
  reading,
  silentLogger,
  sqsClient,
  sqsEvent,
  TS,
  testMetrics,
  timestreamClient,
} from './fixtures';

const tsClient = timestreamClient();
const queueClient = sqsClient();
const timestream = mockClient(tsClient);
const sqs = mockClient(queueClient);
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/zonectl-dlq';

let stdout: MockInstance<typeof process.stdout.write>;

beforeEach(() => {
  timestream.on(WriteRecordsCommand).resolves({});
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  timestream.reset();
  sqs.reset();
  stdout.mockRestore();
});

const noWait = async () => undefined;

function ingest() {
  return createIngestHandler({
    building: 'hq',
    logger: silentLogger(),
    metrics: testMetrics(),
    now: () => TS + 5_000,
    store: new TimestreamStore({
      client: tsClient,
      database: 'db',
      table: 'readings',
      backoff: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      sleep: noWait,
    }),
    deadLetters: new SqsDeadLetterSink({ client: queueClient, queueUrl: DLQ_URL, sleep: noWait }),
  });
}

/** `count` readings per message, each message from its own thing. */
function messages(...counts: number[]): string[] {
  return counts.map((count, m) =>
    ingestBody({ thing: `hq-t${m}`, readings: Array.from({ length: count }, (_, i) => reading(i + 1)) }),
  );
}

const writes = () =>
  timestream.commandCalls(WriteRecordsCommand).map((c) => c.args[0].input as WriteRecordsCommandInput);

const deadLetters = () =>
  sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((c) => (c.args[0].input as SendMessageBatchCommandInput).Entries ?? [])
    .map((e) => DeadLetterEntrySchema.parse(JSON.parse(e.MessageBody ?? '')));

const throttled = () =>
  new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} });

/** Metric values from the EMF lines the handler printed. */
function emittedMetrics(): Record<string, unknown> {
  const lines = stdout.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('"_aws"'));
  return Object.assign({}, ...lines.map((l) => JSON.parse(l)));
}

describe('ingest handler', () => {
  it('writes 250 readings from several messages in 3 WriteRecords calls of at most 100', async () => {
    const response = await ingest()(sqsEvent(messages(50, 50, 50, 50, 50)));
    expect(writes().map((w) => w.Records?.length)).toEqual([100, 100, 50]);
    expect(response.batchItemFailures).toEqual([]);
  });

  it('emits the reading counts as metrics with the building dimension', async () => {
    await ingest()(sqsEvent([...messages(3), ingestBody({ readings: [{ ts: TS, seq: 9 }] })]));
    const emf = emittedMetrics();
    expect(emf).toMatchObject({
      [METRIC_DIMENSION_BUILDING]: 'hq',
      [METRIC.readingsReceived]: 4,
      [METRIC.readingsStored]: 3,
      [METRIC.readingsInvalid]: 1,
      [METRIC.readingsRejected]: 0,
      [METRIC.storeThrottled]: 0,
    });
    expect(JSON.stringify(emf)).toContain(`"Namespace":"${METRICS_NAMESPACE}"`);
  });

  it('dead-letters only the rejected readings with the reason and does not resend the batch', async () => {
    timestream.on(WriteRecordsCommand).rejects(
      new RejectedRecordsException({
        message: 'One or more records have been rejected.',
        $metadata: {},
        RejectedRecords: [{ RecordIndex: 4, Reason: 'The record timestamp is outside the time range.' }],
      }),
    );
    const response = await ingest()(sqsEvent(messages(3, 3)));
    expect(writes()).toHaveLength(1);
    expect(response.batchItemFailures).toEqual([]);
    const entries = deadLetters();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      code: 'REJECTED_BY_STORE',
      thing: 'hq-t1',
      reason: 'The record timestamp is outside the time range.',
      readings: [reading(2)],
    });
    expect(emittedMetrics()).toMatchObject({ [METRIC.readingsStored]: 5, [METRIC.readingsRejected]: 1 });
  });

  it('retries a throttled write and succeeds without failing any message', async () => {
    timestream.on(WriteRecordsCommand).rejectsOnce(throttled()).resolves({});
    const response = await ingest()(sqsEvent(messages(5, 5)));
    expect(writes()).toHaveLength(2);
    expect(response.batchItemFailures).toEqual([]);
  });

  it('reports only the messages of a chunk that stayed throttled as batch item failures', async () => {
    // 180 readings: chunk 1 = m0 (60) + m1 (40), chunk 2 = m1 (20) + m2 (60).
    timestream.on(WriteRecordsCommand).resolvesOnce({}).rejects(throttled());
    const response = await ingest()(sqsEvent(messages(60, 60, 60)));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }]);
    expect(writes()).toHaveLength(1 + 3);
    expect(emittedMetrics()).toMatchObject({ [METRIC.readingsStored]: 100, [METRIC.storeThrottled]: 80 });
  });

  it('reports every message when the store stays throttled for the whole batch, without throwing', async () => {
    timestream.on(WriteRecordsCommand).rejects(throttled());
    const response = await ingest()(sqsEvent(messages(2, 2)));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }]);
  });

  it('does not dead-letter the invalid readings of a message that will be redelivered', async () => {
    timestream.on(WriteRecordsCommand).rejects(throttled());
    const body = ingestBody({ readings: [reading(1), { ts: TS, seq: 2 }] });
    const response = await ingest()(sqsEvent([body]));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('sends an invalid payload to the dead-letter queue and does not fail its message', async () => {
    const response = await ingest()(sqsEvent(['{"v":1,"readings":', ...messages(2)]));
    expect(response.batchItemFailures).toEqual([]);
    const call = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input as SendMessageBatchCommandInput;
    expect(call.QueueUrl).toBe(DLQ_URL);
    expect(deadLetters()).toEqual([
      expect.objectContaining({ code: 'INVALID_MESSAGE', payload: '{"v":1,"readings":', readings: [] }),
    ]);
    expect(writes()[0]?.Records).toHaveLength(2);
  });

  it('sends dead-letter entries in calls of at most 10', async () => {
    await ingest()(sqsEvent(Array.from({ length: 12 }, () => 'garbage')));
    expect(
      sqs
        .commandCalls(SendMessageBatchCommand)
        .map((c) => (c.args[0].input as SendMessageBatchCommandInput).Entries?.length),
    ).toEqual([10, 2]);
    expect(writes()).toHaveLength(0);
  });

  it('retries a dead-letter entry that failed through no fault of the sender', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [{ Id: 'e1', SenderFault: false, Code: 'InternalError' }] })
      .resolves({ Successful: [], Failed: [] });
    const response = await ingest()(sqsEvent(['bad-0', 'bad-1']));
    expect(response.batchItemFailures).toEqual([]);
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    const retried = calls[1]?.args[0].input as SendMessageBatchCommandInput;
    expect((retried.Entries ?? []).map((e) => e.Id)).toEqual(['e1']);
  });

  it('reports the message of a dead-letter entry SQS refused as a batch item failure', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: 'e0', MessageId: 'x', MD5OfMessageBody: '' }],
      Failed: [{ Id: 'e1', SenderFault: true, Code: 'InvalidParameterValue', Message: 'too big' }],
    });
    const response = await ingest()(sqsEvent(['bad-0', 'bad-1']));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  });

  it('drops a duplicate reading repeated in a later message of the batch', async () => {
    const body = ingestBody({ thing: 'hq-t0', readings: [reading(1), reading(2)] });
    await ingest()(sqsEvent([body, body]));
    expect(writes()[0]?.Records).toHaveLength(2);
  });

  it('fails to start without its environment and names the missing variable', () => {
    expect(() => createIngestHandlerFromEnv({})).toThrow(MissingEnvError);
    expect(() => createIngestHandlerFromEnv({ [ENV.buildingId]: 'hq' })).toThrow(ENV.timestreamDatabase);
  });
});
