import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { recordingLogger } from '../../../local/common/log';
import { createLambdaService, type LambdaService } from '../../../local/lambda';
import { createSqsService, type EventSourceMappingConfig, type SqsService } from '../../../local/sqs';
import { provesAbsenceFor } from '../../helpers/absence';
import { bundleFixture, HANDLERS } from '../lambda/bundle';

let asset: string;
let dir: string;
let batchLog: string;
let lambda: LambdaService;
let sqs: SqsService;

interface BatchLine {
  size: number;
  bodies: string[];
  first: SQSRecord;
}

const batches = (): BatchLine[] =>
  existsSync(batchLog)
    ? readFileSync(batchLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as BatchLine)
    : [];

/** Lambda instances start cold in these tests, so results may take seconds to appear. */
const SLOW = { timeout: 15_000 };

const fnArn = (name: string) =>
  `arn:aws:lambda:${DEFAULT_IDENTITY.region}:${DEFAULT_IDENTITY.accountId}:function:${name}`;

async function consumer(name: string, handler = 'sqsConsumer'): Promise<string> {
  await lambda.createFunction({
    functionName: name,
    arn: fnArn(name),
    codeDir: asset,
    handler: `index.${handler}`,
    runtime: 'nodejs22.x',
    timeoutSeconds: 5,
    environment: { BATCH_LOG: batchLog },
  });
  return fnArn(name);
}

async function map(queue: string, functionArn: string, config: Partial<EventSourceMappingConfig> = {}) {
  return sqs.createEventSourceMapping(
    { queueArn: sqs.queueArnOf(queue), functionArn, ...config },
    (arn, event) => lambda.invoke(arn, event, 'RequestResponse'),
  );
}

beforeAll(async () => {
  asset = await bundleFixture(HANDLERS, 'cjs');
});

afterAll(() => rmSync(asset, { recursive: true, force: true }));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-esm-'));
  batchLog = join(dir, 'batches.jsonl');
  const logger = recordingLogger();
  sqs = await createSqsService({
    dir: join(dir, 'sqs'),
    identity: DEFAULT_IDENTITY,
    logger,
    endpoint: () => 'http://127.0.0.1:1',
  });
  lambda = await createLambdaService({
    dir: join(dir, 'lambda'),
    identity: DEFAULT_IDENTITY,
    logger,
    apiEndpoint: 'http://127.0.0.1:1',
  });
});

afterEach(async () => {
  await sqs.close();
  await lambda.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SQS event source mapping', () => {
  it('invokes the function with the Lambda SQS event shape and deletes the batch on success', async () => {
    const url = await sqs.createQueue('shape');
    await sqs.send(url, 'hello', { attributes: { kind: { DataType: 'String', StringValue: 'greeting' } } });
    await map('shape', await consumer('shape-fn'));
    await expect.poll(() => batches().length, SLOW).toBe(1);
    const record = batches()[0]!.first;
    expect(record).toMatchObject({
      body: 'hello',
      eventSource: 'aws:sqs',
      eventSourceARN: sqs.queueArnOf('shape'),
      awsRegion: DEFAULT_IDENTITY.region,
      attributes: { ApproximateReceiveCount: '1', SenderId: DEFAULT_IDENTITY.accountId },
      messageAttributes: { kind: { stringValue: 'greeting', dataType: 'String', stringListValues: [] } },
    });
    expect(record.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record.receiptHandle).toBeTruthy();
    expect(record.md5OfBody).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
    await expect.poll(() => sqs.counts(url).inFlight, SLOW).toBe(0);
    expect(sqs.counts(url)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('splits queued messages into batches of at most batchSize', async () => {
    const url = await sqs.createQueue('by-size');
    for (let i = 0; i < 5; i++) await sqs.send(url, `m${i}`);
    await map('by-size', await consumer('by-size-fn'), { batchSize: 2 });
    await expect.poll(() => batches().reduce((n, b) => n + b.size, 0), SLOW).toBe(5);
    expect(batches().map((b) => b.size)).toEqual([2, 2, 1]);
  });

  it('gathers messages arriving within the batching window into one batch', async () => {
    const url = await sqs.createQueue('by-window');
    await map('by-window', await consumer('by-window-fn'), {
      batchSize: 50,
      maximumBatchingWindowSeconds: 1,
    });
    const started = Date.now();
    // The messages arrive 100 ms apart, all inside the 1 s batching window.
    const arrivalGapMs = 100;
    for (let i = 0; i < 3; i++) {
      await sqs.send(url, `w${i}`);
      await new Promise((r) => setTimeout(r, arrivalGapMs));
    }
    await expect.poll(() => batches().length, SLOW).toBe(1);
    expect(batches()[0]!.bodies).toEqual(['w0', 'w1', 'w2']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('keeps only the reported failures on the queue with ReportBatchItemFailures', async () => {
    const url = await sqs.createQueue('partial', { VisibilityTimeout: '1' });
    await sqs.send(url, 'ok-1');
    await sqs.send(url, 'fail-2');
    await sqs.send(url, 'ok-3');
    await map('partial', await consumer('partial-fn'), {
      batchSize: 3,
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
    // The failed message comes back after the visibility timeout, alone.
    await expect.poll(() => batches().length, SLOW).toBeGreaterThanOrEqual(2);
    expect(batches()[0]!.bodies).toEqual(['ok-1', 'fail-2', 'ok-3']);
    expect(batches()[1]!.bodies).toEqual(['fail-2']);
  });

  it('fails the whole batch when the partial response names an unknown message', async () => {
    const url = await sqs.createQueue('invalid-report', { VisibilityTimeout: '60' });
    await sqs.send(url, 'ok-1');
    await sqs.send(url, 'invalid-report');
    await map('invalid-report', await consumer('invalid-report-fn'), {
      batchSize: 2,
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
    await expect.poll(() => batches().length, SLOW).toBe(1);
    await provesAbsenceFor(100, 'the deletion of either message of the failed batch');
    expect(sqs.counts(url)).toMatchObject({ inFlight: 2 });
  });

  it('leaves a failed batch to the redrive policy, which moves it to the dead-letter queue', async () => {
    const dlq = await sqs.createQueue('esm-dlq');
    await sqs.createQueue('esm-src', {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqs.queueArnOf('esm-dlq'), maxReceiveCount: 2 }),
    });
    await sqs.send(sqs.queueUrlOf('esm-src'), 'poison');
    await map('esm-src', await consumer('esm-fail-fn', 'fail'));
    await expect.poll(() => sqs.counts(dlq).visible, SLOW).toBe(1);
    const [dead] = await sqs.receive(dlq);
    expect(dead?.message.body).toBe('poison');
    expect(dead?.message.deadLetterSourceArn).toBe(sqs.queueArnOf('esm-src'));
  });

  it('rejects a batch size over 10 without a batching window', async () => {
    await sqs.createQueue('bad-config');
    await expect(map('bad-config', fnArn('none'), { batchSize: 100 })).rejects.toThrow(/batch window/);
  });

  it('polls again after a restart with the mapping and UUID it had, without a redeploy', async () => {
    const url = await sqs.createQueue('kept');
    const mapping = await map('kept', await consumer('kept-fn'));
    await sqs.close();
    sqs = await createSqsService({
      dir: join(dir, 'sqs'),
      identity: DEFAULT_IDENTITY,
      logger: recordingLogger(),
      endpoint: () => 'http://127.0.0.1:1',
      invokeFunction: (arn, event) => lambda.invoke(arn, event, 'RequestResponse'),
    });
    expect(sqs.listEventSourceMappings().map((m) => m.uuid)).toEqual([mapping.uuid]);
    await sqs.send(url, 'after the restart');
    await expect.poll(() => batches().flatMap((b) => b.bodies), SLOW).toEqual(['after the restart']);
  });

  it('forgets a deleted mapping for good', async () => {
    const mapping = await map((await sqs.createQueue('gone')) && 'gone', await consumer('gone-fn'));
    await sqs.deleteEventSourceMapping(mapping.uuid);
    await sqs.close();
    sqs = await createSqsService({
      dir: join(dir, 'sqs'),
      identity: DEFAULT_IDENTITY,
      logger: recordingLogger(),
      endpoint: () => 'http://127.0.0.1:1',
      invokeFunction: (arn, event) => lambda.invoke(arn, event, 'RequestResponse'),
    });
    expect(sqs.listEventSourceMappings()).toEqual([]);
  });
});
