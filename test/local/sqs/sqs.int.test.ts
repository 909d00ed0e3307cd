import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchRequestTooLong,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { recordingLogger } from '../../../local/common/log';
import { createGatewayService, type GatewayService } from '../../../local/gateway';
import { createSqsService, type SqsService } from '../../../local/sqs';

let dir: string;
let sqs: SqsService;
let server: GatewayService;
let client: SQSClient;
let endpoint = '';

async function start(): Promise<void> {
  const logger = recordingLogger();
  sqs = await createSqsService({ dir, identity: DEFAULT_IDENTITY, logger, endpoint: () => endpoint });
  server = await createGatewayService({ port: 0, routes: [sqs.route], logger });
  endpoint = server.endpoint;
  client = new SQSClient({
    endpoint,
    region: DEFAULT_IDENTITY.region,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local', sessionToken: 'local' },
    maxAttempts: 1,
  });
}

async function stop(): Promise<void> {
  client.destroy();
  await server.close();
  await sqs.close();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-sqs-'));
  await start();
});

afterEach(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

const createQueue = async (name: string, Attributes?: Record<string, string>) =>
  (await client.send(new CreateQueueCommand({ QueueName: name, Attributes }))).QueueUrl!;

describe('local SQS through the AWS SDK', () => {
  it('sends, receives and deletes a message', async () => {
    const url = await createQueue('orders');
    expect(url).toBe(`${endpoint}/${DEFAULT_IDENTITY.accountId}/orders`);
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'hello',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' } },
      }),
    );
    expect(sent.MessageId).toBeTruthy();
    const got = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    const message = got.Messages?.[0];
    expect(message?.Body).toBe('hello');
    expect(message?.MessageAttributes?.kind?.StringValue).toBe('greeting');
    expect(message?.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(message?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(Number(message?.Attributes?.SentTimestamp)).toBeGreaterThan(0);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message!.ReceiptHandle! }));
    expect(sqs.counts(url)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('reports an invalid batch entry as Failed and stores the others', async () => {
    const url = await createQueue('batch');
    const out = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'bad \u0000 char' },
          { Id: 'c', MessageBody: 'three' },
        ],
      }),
    );
    expect(out.Successful?.map((s) => s.Id)).toEqual(['a', 'c']);
    expect(out.Failed).toEqual([
      expect.objectContaining({ Id: 'b', SenderFault: true, Code: 'InvalidMessageContents' }),
    ]);
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(got.Messages?.map((m) => m.Body)).toEqual(['one', 'three']);
  });

  it('fails a whole batch over 256 KiB with BatchRequestTooLong', async () => {
    const url = await createQueue('batch-too-long');
    const body = 'x'.repeat(200_000);
    const err = await client
      .send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: 'a', MessageBody: body },
            { Id: 'b', MessageBody: body },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchRequestTooLong);
  });

  it('deletes a batch entry by entry, failing an invalid receipt handle', async () => {
    const url = await createQueue('delete-batch');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'm' }));
    const [m] = (await client.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages ?? [];
    const out = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'ok', ReceiptHandle: m!.ReceiptHandle! },
          { Id: 'bad', ReceiptHandle: 'not-a-handle' },
        ],
      }),
    );
    expect(out.Successful?.map((s) => s.Id)).toEqual(['ok']);
    expect(out.Failed?.[0]).toMatchObject({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' });
  });

  it('makes an undeleted message visible again when its visibility timeout expires', async () => {
    const url = await createQueue('visibility');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 1 }));
    expect(first.Messages).toHaveLength(1);
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    const second = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 3, MessageSystemAttributeNames: ['All'] }),
    );
    expect(second.Messages?.[0]?.Body).toBe('again');
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('makes a message visible at once when its visibility is changed to 0', async () => {
    const url = await createQueue('change-visibility');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'now' }));
    const [m] =
      (await client.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 60 }))).Messages ?? [];
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: m!.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages?.[0]?.Body).toBe('now');
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const dlqUrl = await createQueue('orders-dlq');
    const dlqArn = sqs.queueArnOf('orders-dlq');
    const url = await createQueue('orders-src', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    for (let i = 0; i < 2; i++) {
      const got = await client.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
      expect(got.Messages?.[0]?.Body).toBe('poison');
    }
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    // The move completes once the dead-letter queue has the message on disk.
    const dead = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MessageSystemAttributeNames: ['All'],
        WaitTimeSeconds: 5,
      }),
    );
    expect(dead.Messages?.[0]?.Body).toBe('poison');
    expect(dead.Messages?.[0]?.Attributes?.DeadLetterQueueSourceArn).toBe(sqs.queueArnOf('orders-src'));
  });

  it('returns a long poll early when a message arrives', async () => {
    const url = await createQueue('long-poll');
    const started = Date.now();
    const polling = client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }));
    setTimeout(() => void sqs.send(url, 'arrived'), 200);
    const got = await polling;
    expect(got.Messages?.[0]?.Body).toBe('arrived');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('keeps an acknowledged message across close and reopen', async () => {
    const url = await createQueue('durable');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'kept' }));
    await stop();
    await start();
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrlOf('durable') }));
    expect(got.Messages?.[0]?.Body).toBe('kept');
  });

  it('makes in-flight messages visible again after a restart', async () => {
    const url = await createQueue('inflight');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'in flight' }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 600 }));
    await stop();
    await start();
    const got = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: sqs.queueUrlOf('inflight'),
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(got.Messages?.[0]?.Body).toBe('in flight');
    expect(got.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('compacts the message log once it grows well past the live messages', async () => {
    const url = await sqs.createQueue('compacted');
    for (let i = 0; i < 400; i++) await sqs.send(url, `m${i}`);
    for (;;) {
      const got = await sqs.receive(url, { maxMessages: 10 });
      if (got.length === 0) break;
      for (const r of got) await sqs.delete(url, r.receiptHandle);
    }
    await sqs.send(url, 'survivor');
    // 400 sends, 400 receives and 400 deletes were logged; compaction keeps far fewer lines.
    const log = join(dir, 'messages', 'compacted.jsonl');
    await expect
      .poll(() => readFileSync(log, 'utf8').trim().split('\n').length, { timeout: 5000 })
      .toBeLessThan(400);
    await stop();
    await start();
    const [kept] = await sqs.receive(sqs.queueUrlOf('compacted'));
    expect(kept?.message.body).toBe('survivor');
  });

  it('reports queue counts, ARN and redrive policy in GetQueueAttributes', async () => {
    await createQueue('attrs-dlq');
    const policy = { deadLetterTargetArn: sqs.queueArnOf('attrs-dlq'), maxReceiveCount: 3 };
    const url = await createQueue('attrs', {
      VisibilityTimeout: '45',
      RedrivePolicy: JSON.stringify(policy),
    });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a' }));
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'b' }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: url }));
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '1',
      QueueArn: `arn:aws:sqs:${DEFAULT_IDENTITY.region}:${DEFAULT_IDENTITY.accountId}:attrs`,
      VisibilityTimeout: '45',
    });
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toEqual(policy);
  });

  it('finds queues by name and by prefix', async () => {
    await createQueue('alpha-1');
    await createQueue('alpha-2');
    await createQueue('beta');
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: 'beta' }));
    expect(QueueUrl).toBe(sqs.queueUrlOf('beta'));
    const listed = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'alpha' }));
    expect(listed.QueueUrls).toEqual([sqs.queueUrlOf('alpha-1'), sqs.queueUrlOf('alpha-2')]);
  });

  it('fails a receive on a missing queue with QueueDoesNotExist', async () => {
    const err = await client
      .send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrlOf('missing') }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueDoesNotExist);
    expect((err as QueueDoesNotExist & { Code?: string }).Code).toBe(
      'AWS.SimpleQueueService.NonExistentQueue',
    );
  });

  it('fails a message over 256 KiB with InvalidParameterValue', async () => {
    const url = await createQueue('big');
    const err = await client
      .send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(262_145) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SQSServiceException);
    expect((err as SQSServiceException).name).toBe('InvalidParameterValue');
  });

  it('fails a receive of more than 10 messages with InvalidParameterValue', async () => {
    const url = await createQueue('too-many');
    const err = await client
      .send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 }))
      .catch((e: unknown) => e);
    expect((err as SQSServiceException).name).toBe('InvalidParameterValue');
  });

  it('fails re-creating a queue with different attributes with QueueNameExists', async () => {
    await createQueue('same', { VisibilityTimeout: '10' });
    expect(await createQueue('same', { VisibilityTimeout: '10' })).toBe(sqs.queueUrlOf('same'));
    const err = await client
      .send(new CreateQueueCommand({ QueueName: 'same', Attributes: { VisibilityTimeout: '20' } }))
      .catch((e: unknown) => e);
    expect((err as SQSServiceException).name).toBe('QueueNameExists');
  });
});
