/**
 * Failing handlers in the deployed pipeline, made to fail for real:
 * - ingest: the Timestream table is deleted, so every WriteRecords is refused; the ingest
 *   function reports the message failed, SQS delivers it again after the visibility timeout,
 *   and after the queue's maxReceiveCount the redrive policy moves it to the dead-letter queue;
 * - control: the actuator's thing is deleted from the registry, so the zone controller's
 *   UpdateThingShadow is refused with 404; the controller reports the zone's control events as
 *   failed, SQS delivers them again after the visibility timeout, and after the control queue's
 *   maxReceiveCount the redrive policy moves them to the dead-letter queue.
 */
import { DeleteThingCommand, DetachThingPrincipalCommand } from '@aws-sdk/client-iot';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CONTROL_EVENT_KIND,
  describeDeadLetter,
  publishedMessage,
  STACK_OUTPUT,
  TELEMETRY_VERSION,
} from '../../contracts';
import { connectDevice, disconnectAll } from '../helpers/mqtt-device';
import { ACTUATOR, SENSOR } from './helpers/assembly';
import { type Pipeline, printLogsOnFailure, startPipeline, storedReadings } from './helpers/pipeline';

let pipeline: Pipeline;
/** Above the ingest mapping's 5 s batching window, well under the deployed timeout. */
const VISIBILITY_SECONDS = '6';

beforeAll(async () => {
  pipeline = await startPipeline();
}, 240_000);

printLogsOnFailure(() => pipeline);

afterAll(async () => {
  await disconnectAll();
  await pipeline?.close();
});

async function publishAsSensor(p: Pipeline, readings: object[]): Promise<void> {
  const pipeline = p;
  const device = await connectDevice({
    port: pipeline.cloud.endpoints.mqttPort,
    clientId: SENSOR,
    ...pipeline.files(SENSOR),
  });
  try {
    await device.publish(pipeline.bundles[SENSOR]!.topics.telemetry, { v: TELEMETRY_VERSION, readings });
  } finally {
    await device.disconnect();
  }
}

describe('failing handlers', () => {
  it('redrives an ingest message whose store write keeps failing to the dead-letter queue after maxReceiveCount receives', async () => {
    const { sqs } = pipeline.clients();
    const ingestQueue = pipeline.outputs[STACK_OUTPUT.ingestQueueUrl]!;
    const dlq = pipeline.outputs[STACK_OUTPUT.deadLetterQueueUrl]!;
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: ingestQueue, AttributeNames: ['RedrivePolicy'] }),
    );
    const { maxReceiveCount } = JSON.parse(attributes.Attributes?.RedrivePolicy ?? '{}') as {
      maxReceiveCount: number;
    };
    expect(maxReceiveCount).toBeGreaterThan(1);
    // Redeliveries after 6 s instead of the deployed few minutes; kept above the mapping's 5 s
    // batching window, or a message comes back into the very batch still gathering.
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: ingestQueue,
        Attributes: { VisibilityTimeout: VISIBILITY_SECONDS },
      }),
    );
    await pipeline.cloud.timestream.deleteTable(
      pipeline.outputs[STACK_OUTPUT.timestreamDatabase]!,
      pipeline.outputs[STACK_OUTPUT.timestreamTable]!,
    );

    await publishAsSensor(pipeline, [{ ts: Date.now(), seq: 7, temperature: 20.5 }]);

    const moved = await vi.waitFor(
      async () => {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: dlq,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        for (const m of out.Messages ?? []) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: m.ReceiptHandle }));
        }
        const found = (out.Messages ?? []).find((m) => {
          const body = JSON.parse(m.Body ?? '{}') as { thing?: string };
          const published = publishedMessage(body) as { readings?: Array<{ seq?: number }> } | undefined;
          return body.thing === SENSOR && published?.readings?.some((r) => r.seq === 7);
        });
        expect(found, 'the ingest message in the dead-letter queue').toBeDefined();
        return found!;
      },
      { timeout: 100_000, interval: 100 },
    );
    // the message is the ingest rule's output, as it sat on the ingest queue: the payload in base64
    expect(JSON.parse(moved.Body!)).toMatchObject({
      base64Payload: expect.any(String),
      building: 'hq',
      zone: 'lobby',
      thing: SENSOR,
      clientId: SENSOR,
    });
    expect(pipeline.logLines('moved to', `after ${maxReceiveCount} receives`)).toHaveLength(1);
    const failedReceives = pipeline.logLines('1 of 1 messages reported as failed');
    expect(failedReceives).toHaveLength(maxReceiveCount);
    expect(
      pipeline.logLines('WriteRecords', 'ResourceNotFoundException').length +
        pipeline.logLines('timestream-write', '404').length,
    ).toBeGreaterThan(0);
    await expect(storedReadings(pipeline, SENSOR)).rejects.toThrow();
  }, 150_000);

  it('returns control events the zone controller fails on to its queue, then moves them to the dead-letter queue, where they count no readings', async () => {
    const { iot, sqs } = pipeline.clients();
    const controlQueue = pipeline.outputs[STACK_OUTPUT.controlQueueUrl]!;
    const dlq = pipeline.outputs[STACK_OUTPUT.deadLetterQueueUrl]!;
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: controlQueue, AttributeNames: ['RedrivePolicy'] }),
    );
    const { maxReceiveCount } = JSON.parse(attributes.Attributes?.RedrivePolicy ?? '{}') as {
      maxReceiveCount: number;
    };
    expect(maxReceiveCount).toBeGreaterThan(1);
    // Redeliveries after 1 s instead of the deployed few minutes (the mapping has no batching window).
    await sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: controlQueue, Attributes: { VisibilityTimeout: '1' } }),
    );
    const certificateArn = `arn:aws:iot:${pipeline.cloud.identity.region}:${pipeline.cloud.identity.accountId}:cert/${pipeline.bundles[ACTUATOR]!.certificateId}`;
    await iot.send(new DetachThingPrincipalCommand({ thingName: ACTUATOR, principal: certificateArn }));
    await iot.send(new DeleteThingCommand({ thingName: ACTUATOR }));

    // 12 degC: the controller must write heating on for the zone's actuator, whose thing is gone
    await publishAsSensor(pipeline, [{ ts: Date.now(), seq: 8, temperature: 12 }]);

    const moved = await vi.waitFor(
      async () => {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        const found = (out.Messages ?? []).find((m) => {
          const body = JSON.parse(m.Body ?? '{}') as { kind?: string; readings?: Array<{ seq?: number }> };
          return body.kind === CONTROL_EVENT_KIND && body.readings?.some((r) => r.seq === 8);
        });
        expect(found, 'the control event in the dead-letter queue').toBeDefined();
        await sqs.send(new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: found!.ReceiptHandle }));
        return found!;
      },
      { timeout: 60_000, interval: 100 },
    );
    expect(JSON.parse(moved.Body!)).toMatchObject({ building: 'hq', zone: 'lobby', thing: SENSOR });
    expect(describeDeadLetter(moved.Body!)).toMatchObject({ origin: 'control', readings: 0 });
    expect(pipeline.logLines('ControllerHandler', 'zone not controlled').length).toBeGreaterThanOrEqual(
      maxReceiveCount,
    );
    expect(pipeline.logLines('ControllerHandler', 'ResourceNotFoundException').length).toBeGreaterThan(0);
    const controlQueueName = controlQueue.split('/').at(-1)!;
    expect(pipeline.logLines('moved to', controlQueueName)).toHaveLength(1);
  }, 90_000);
});

/**
 * SQS applies the queue's VisibilityTimeout as it is when a message is delivered to a
 * ReceiveMessage that names none, so lowering it takes effect even for the long poll the
 * mapping is already waiting in (a fresh cloud: the mapping started polling at deploy).
 */
describe('event source mapping and SetQueueAttributes', () => {
  let fresh: Pipeline;

  beforeAll(async () => {
    fresh = await startPipeline();
  }, 240_000);

  afterAll(async () => {
    await fresh?.close();
  });

  it('applies a lowered VisibilityTimeout to the next message the event source mapping receives', async () => {
    const { sqs } = fresh.clients();
    const ingestQueue = fresh.outputs[STACK_OUTPUT.ingestQueueUrl]!;
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: ingestQueue,
        Attributes: { VisibilityTimeout: VISIBILITY_SECONDS },
      }),
    );
    await fresh.cloud.timestream.deleteTable(
      fresh.outputs[STACK_OUTPUT.timestreamDatabase]!,
      fresh.outputs[STACK_OUTPUT.timestreamTable]!,
    );
    await publishAsSensor(fresh, [{ ts: Date.now(), seq: 1, temperature: 20.5 }]);
    // received, failed, visible again after 1 s, received again after the 5 s batching window
    await expect
      .poll(() => fresh.logLines('1 of 1 messages reported as failed').length, {
        timeout: 15_000,
        interval: 100,
        message: 'a second receive of the failed message',
      })
      .toBeGreaterThanOrEqual(2);
  }, 60_000);
});
