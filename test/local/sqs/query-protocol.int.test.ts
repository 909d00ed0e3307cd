/**
 * The local SQS in the query (XML) protocol: Debian's AWS CLI v2.9 (whose botocore speaks it)
 * for every operation the local SQS serves, messages crossing between it and the AWS SDK v3
 * (AWS JSON), and raw query requests as curl would send them.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { recordingLogger } from '../../../local/common/log';
import { type AwsProtocol, createGatewayService, type GatewayService } from '../../../local/gateway';
import { createSqsService, type SqsService } from '../../../local/sqs';
import { AWS_CLI, AWS_CLI_MISSING, awsJson, describeWithCli, runAwsCli } from '../../helpers/aws-cli';

if (!AWS_CLI) console.warn(`query-protocol CLI tests skipped: ${AWS_CLI_MISSING}`);

let dir: string;
let sqs: SqsService;
let server: GatewayService;
let endpoint = '';
/** The protocol of every request the SQS route answered, to prove which one a client spoke. */
let protocols: AwsProtocol[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-sqs-query-'));
  protocols = [];
  const logger = recordingLogger();
  sqs = await createSqsService({ dir, identity: DEFAULT_IDENTITY, logger, endpoint: () => endpoint });
  const route = sqs.route;
  server = await createGatewayService({
    port: 0,
    logger,
    routes: [
      {
        ...route,
        handle: (req) => {
          protocols.push(route.protocolOf?.(req) ?? route.protocol);
          return route.handle(req);
        },
      },
    ],
  });
  endpoint = server.endpoint;
});

afterEach(async () => {
  await server.close();
  await sqs.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = () => ({ endpoint, home: dir });
const aws = <T = Record<string, unknown>>(...args: string[]) => awsJson<T>(['sqs', ...args], cli());
const queueUrl = (name: string) => `${endpoint}/${DEFAULT_IDENTITY.accountId}/${name}`;
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' });

interface CliMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes?: Record<string, string>;
  MD5OfMessageAttributes?: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
}

describeWithCli(`Debian's AWS CLI against the local SQS in the query protocol`, () => {
  it('creates, lists, describes, changes and deletes queues', async () => {
    await aws('create-queue', '--queue-name', 'dead-letters');
    const created = await aws<{ QueueUrl: string }>(
      'create-queue',
      '--queue-name',
      'orders',
      '--attributes',
      JSON.stringify({
        VisibilityTimeout: '45',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:us-east-1:${DEFAULT_IDENTITY.accountId}:dead-letters`,
          maxReceiveCount: 3,
        }),
      }),
    );
    expect(created.QueueUrl).toBe(queueUrl('orders'));
    expect(await aws('get-queue-url', '--queue-name', 'orders')).toEqual({ QueueUrl: queueUrl('orders') });
    expect(await aws('list-queues', '--queue-name-prefix', 'ord')).toEqual({
      QueueUrls: [queueUrl('orders')],
    });

    const { Attributes } = await aws<{ Attributes: Record<string, string> }>(
      'get-queue-attributes',
      '--queue-url',
      queueUrl('orders'),
      '--attribute-names',
      'All',
    );
    expect(Attributes).toMatchObject({
      VisibilityTimeout: '45',
      QueueArn: `arn:aws:sqs:us-east-1:${DEFAULT_IDENTITY.accountId}:orders`,
      ApproximateNumberOfMessages: '0',
    });
    expect(JSON.parse(Attributes.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 3 });

    await aws(
      'set-queue-attributes',
      '--queue-url',
      queueUrl('orders'),
      '--attributes',
      JSON.stringify({ DelaySeconds: '2' }),
    );
    expect(
      await aws(
        'get-queue-attributes',
        '--queue-url',
        queueUrl('orders'),
        '--attribute-names',
        'DelaySeconds',
      ),
    ).toEqual({ Attributes: { DelaySeconds: '2' } });
    expect(await aws('list-dead-letter-source-queues', '--queue-url', queueUrl('dead-letters'))).toEqual({
      queueUrls: [queueUrl('orders')],
    });

    await aws('delete-queue', '--queue-url', queueUrl('orders'));
    expect(await aws('list-queues')).toEqual({ QueueUrls: [queueUrl('dead-letters')] });
    expect(new Set(protocols)).toEqual(new Set(['query']));
  });

  it('pages through list-queues with NextToken (--page-size 1)', async () => {
    for (const name of ['a-queue', 'B-queue', 'c-queue']) await aws('create-queue', '--queue-name', name);
    const { QueueUrls } = await aws<{ QueueUrls: string[] }>('list-queues', '--page-size', '1');
    expect(QueueUrls).toEqual(['a-queue', 'B-queue', 'c-queue'].map(queueUrl));
    const pages = protocols.length - 3;
    expect(pages, 'one request per page').toBe(3);
  });

  it('sends with message attributes and receives them with the same MD5s', async () => {
    await aws('create-queue', '--queue-name', 'readings');
    const attributes = {
      kind: { DataType: 'String', StringValue: 'temperature' },
      celsius: { DataType: 'Number', StringValue: '21.5' },
      raw: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]).toString('base64') },
    };
    const sent = await aws<{ MessageId: string; MD5OfMessageBody: string; MD5OfMessageAttributes: string }>(
      'send-message',
      '--queue-url',
      queueUrl('readings'),
      '--message-body',
      '{"t": 21.5, "note": "<&>"}',
      '--message-attributes',
      JSON.stringify(attributes),
    );
    const { Messages } = await aws<{ Messages: CliMessage[] }>(
      'receive-message',
      '--queue-url',
      queueUrl('readings'),
      '--attribute-names',
      'All',
      '--message-attribute-names',
      'All',
    );
    expect(Messages).toHaveLength(1);
    const [m] = Messages;
    expect(m).toMatchObject({
      MessageId: sent.MessageId,
      Body: '{"t": 21.5, "note": "<&>"}',
      MD5OfBody: sent.MD5OfMessageBody,
      MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
      MessageAttributes: attributes,
    });
    expect(m!.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SenderId: 'AKIDLOCAL' });
    expect(Number(m!.Attributes!.SentTimestamp)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('answers an empty receive with no messages', async () => {
    await aws('create-queue', '--queue-name', 'empty');
    expect(await aws('receive-message', '--queue-url', queueUrl('empty'))).toEqual({});
  });

  it('reports batch entries one by one: sent, deleted, visibility changed, or failed with their code', async () => {
    await aws('create-queue', '--queue-name', 'batch');
    const sent = await aws<{ Successful: Array<{ Id: string }>; Failed: unknown[] }>(
      'send-message-batch',
      '--queue-url',
      queueUrl('batch'),
      '--entries',
      JSON.stringify([
        { Id: 'one', MessageBody: 'first' },
        { Id: 'two', MessageBody: 'second', DelaySeconds: 0 },
        { Id: 'bad', MessageBody: 'control \u0001 character' },
      ]),
    );
    expect(sent.Successful.map((e) => e.Id)).toEqual(['one', 'two']);
    expect(sent.Failed).toEqual([
      {
        Id: 'bad',
        SenderFault: true,
        Code: 'InvalidMessageContents',
        Message: expect.stringMatching(/Invalid characters/),
      },
    ]);

    const { Messages } = await aws<{ Messages: CliMessage[] }>(
      'receive-message',
      '--queue-url',
      queueUrl('batch'),
      '--max-number-of-messages',
      '10',
      '--visibility-timeout',
      '60',
    );
    expect(Messages.map((m) => m.Body)).toEqual(['first', 'second']);
    const changed = await aws(
      'change-message-visibility-batch',
      '--queue-url',
      queueUrl('batch'),
      '--entries',
      JSON.stringify([
        { Id: 'a', ReceiptHandle: Messages[0]!.ReceiptHandle, VisibilityTimeout: 0 },
        { Id: 'b', ReceiptHandle: 'not-a-handle', VisibilityTimeout: 0 },
      ]),
    );
    expect(changed).toEqual({
      Successful: [{ Id: 'a' }],
      Failed: [{ Id: 'b', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: expect.any(String) }],
    });
    await aws(
      'change-message-visibility',
      '--queue-url',
      queueUrl('batch'),
      '--receipt-handle',
      Messages[1]!.ReceiptHandle,
      '--visibility-timeout',
      '0',
    );
    const again = await aws<{ Messages: CliMessage[] }>(
      'receive-message',
      '--queue-url',
      queueUrl('batch'),
      '--max-number-of-messages',
      '10',
    );
    expect(again.Messages.map((m) => m.Body).sort()).toEqual(['first', 'second']);
    const deleted = await aws(
      'delete-message-batch',
      '--queue-url',
      queueUrl('batch'),
      '--entries',
      JSON.stringify(again.Messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle }))),
    );
    expect(deleted).toEqual({ Successful: [{ Id: 'm0' }, { Id: 'm1' }] });
    expect(sqs.counts(queueUrl('batch'))).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('deletes one message and purges a queue', async () => {
    await aws('create-queue', '--queue-name', 'work');
    await aws('send-message', '--queue-url', queueUrl('work'), '--message-body', 'a');
    await aws('send-message', '--queue-url', queueUrl('work'), '--message-body', 'b');
    const { Messages } = await aws<{ Messages: CliMessage[] }>(
      'receive-message',
      '--queue-url',
      queueUrl('work'),
    );
    await aws(
      'delete-message',
      '--queue-url',
      queueUrl('work'),
      '--receipt-handle',
      Messages[0]!.ReceiptHandle,
    );
    expect(sqs.counts(queueUrl('work'))).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    await aws('purge-queue', '--queue-url', queueUrl('work'));
    expect(sqs.counts(queueUrl('work'))).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('fails a missing queue with the legacy code AWS.SimpleQueueService.NonExistentQueue', async () => {
    const out = await runAwsCli(['sqs', 'get-queue-url', '--queue-name', 'nope'], cli());
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(
      /\(AWS\.SimpleQueueService\.NonExistentQueue\) when calling the GetQueueUrl operation/,
    );
    expect(out.stderr).toMatch(/The specified queue does not exist: nope/);
  });

  it('fails a bad parameter with InvalidParameterValue naming it', async () => {
    await aws('create-queue', '--queue-name', 'limits');
    const out = await runAwsCli(
      ['sqs', 'receive-message', '--queue-url', queueUrl('limits'), '--max-number-of-messages', '11'],
      cli(),
    );
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/\(InvalidParameterValue\).*MaxNumberOfMessages.*between 1 and 10/);
  });

  it('fails an operation the local SQS does not serve with UnsupportedOperation, naming it', async () => {
    await aws('create-queue', '--queue-name', 'tags');
    const out = await runAwsCli(
      ['sqs', 'tag-queue', '--queue-url', queueUrl('tags'), '--tags', 'team=ops'],
      cli(),
    );
    expect(out.stderr).toMatch(/\(AWS\.SimpleQueueService\.UnsupportedOperation\).*TagQueue/);
  });
});

describe('one queue, two protocols', () => {
  const client = () =>
    new SQSClient({
      endpoint,
      region: DEFAULT_IDENTITY.region,
      credentials: { accessKeyId: 'AKIDSDK', secretAccessKey: 'local' },
      maxAttempts: 1,
    });

  it.skipIf(!AWS_CLI)(
    'delivers a message sent with the SDK (JSON) to the CLI (query) with the same MD5s',
    async () => {
      await sqs.createQueue('mixed');
      const sdk = client();
      const sent = await sdk.send(
        new SendMessageCommand({
          QueueUrl: queueUrl('mixed'),
          MessageBody: 'from the SDK',
          MessageAttributes: { source: { DataType: 'String', StringValue: 'sdk' } },
        }),
      );
      sdk.destroy();
      const { Messages } = await aws<{ Messages: CliMessage[] }>(
        'receive-message',
        '--queue-url',
        queueUrl('mixed'),
        '--message-attribute-names',
        'All',
      );
      expect(Messages[0]).toMatchObject({
        MessageId: sent.MessageId,
        MD5OfBody: sent.MD5OfMessageBody,
        MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
        MessageAttributes: { source: { DataType: 'String', StringValue: 'sdk' } },
      });
      expect(protocols).toEqual(['json-1.0', 'query']);
    },
  );

  it.skipIf(!AWS_CLI)('delivers a message sent with the CLI (query) to the SDK (JSON)', async () => {
    await sqs.createQueue('mixed-back');
    const sent = await aws<{ MessageId: string }>(
      'send-message',
      '--queue-url',
      queueUrl('mixed-back'),
      '--message-body',
      'from the CLI',
    );
    const sdk = client();
    const got = await sdk.send(new ReceiveMessageCommand({ QueueUrl: queueUrl('mixed-back') }));
    sdk.destroy();
    expect(got.Messages?.map((m) => [m.MessageId, m.Body])).toEqual([[sent.MessageId, 'from the CLI']]);
  });
});

describe('raw query requests, as curl sends them', () => {
  it('sends a message with GET to the queue URL itself, answered in SQS XML', async () => {
    await sqs.createQueue('plain');
    const res = await fetch(`${queueUrl('plain')}?Action=SendMessage&MessageBody=hello%20there`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml');
    const doc = xml.parse(await res.text());
    expect(doc.SendMessageResponse['@_xmlns']).toBe('http://queue.amazonaws.com/doc/2012-11-05/');
    expect(doc.SendMessageResponse.SendMessageResult.MD5OfMessageBody).toBe(
      createHash('md5').update('hello there').digest('hex'),
    );
    expect(doc.SendMessageResponse.ResponseMetadata.RequestId).toBe(res.headers.get('x-amzn-requestid'));
    expect((await sqs.receive(queueUrl('plain'))).map((r) => r.message.body)).toEqual(['hello there']);
  });

  it('takes form-encoded POST parameters, including numbered attribute entries', async () => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({
        Action: 'CreateQueue',
        Version: '2012-11-05',
        QueueName: 'posted',
        'Attribute.1.Name': 'VisibilityTimeout',
        'Attribute.1.Value': '12',
        'Attribute.2.Name': 'DelaySeconds',
        'Attribute.2.Value': '1',
      }),
    });
    const doc = xml.parse(await res.text());
    expect(doc.CreateQueueResponse.CreateQueueResult.QueueUrl).toBe(queueUrl('posted'));
    expect(sqs.listQueues().map((q) => q.name)).toEqual(['posted']);
  });

  it('answers errors with an XML ErrorResponse: Type, legacy Code, Message and RequestId', async () => {
    const res = await fetch(`${endpoint}/?Action=GetQueueUrl&QueueName=absent`, {
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request' },
    });
    expect(res.status).toBe(400);
    const doc = xml.parse(await res.text());
    expect(doc.ErrorResponse.Error).toMatchObject({
      Type: 'Sender',
      Code: 'AWS.SimpleQueueService.NonExistentQueue',
      Message: 'The specified queue does not exist: absent.',
    });
    expect(doc.ErrorResponse.RequestId).toBe(res.headers.get('x-amzn-requestid'));
  });

  it('fails a signed request without Action with MissingAction and an unknown Action with InvalidAction', async () => {
    const signed = { authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request' };
    const missing = xml.parse(await (await fetch(`${endpoint}/?QueueName=x`, { headers: signed })).text());
    expect(missing.ErrorResponse.Error.Code).toBe('MissingAction');
    const unknown = xml.parse(
      await (await fetch(`${endpoint}/?Action=Frobnicate`, { headers: signed })).text(),
    );
    expect(unknown.ErrorResponse.Error).toMatchObject({
      Code: 'InvalidAction',
      Message: expect.stringMatching(/Frobnicate/),
    });
    for (const action of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const res = await fetch(`${endpoint}/?Action=${action}`, { headers: signed });
      expect(res.status, action).toBe(400);
      expect(xml.parse(await res.text()).ErrorResponse.Error.Code, action).toBe('InvalidAction');
    }
  });

  it('fails numbered parameters that are not numbers, naming the parameter', async () => {
    await sqs.createQueue('numbers');
    const res = await fetch(`${queueUrl('numbers')}?Action=GetQueueAttributes&AttributeName.first=All`);
    const doc = xml.parse(await res.text());
    expect(doc.ErrorResponse.Error).toMatchObject({
      Code: 'InvalidParameterValue',
      Message: expect.stringMatching(/AttributeName\.first/),
    });
  });
});
