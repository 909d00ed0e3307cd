import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  COMMAND_SHADOW_NAME,
  type DesiredCommandState,
  describeDeadLetter,
  type LocalClientConfig,
  type ReportedCommandState,
} from '../contracts';

/**
 * What the dashboard reads from (and writes to) the pipeline besides the readings, through the
 * AWS APIs exactly as it would against AWS: the command shadows and the dead-letter queue.
 * Only the client configuration says it is the local cloud. Readings come through a
 * ReadingsReader (readings/reader.ts).
 */

export interface DeadLetterSummary {
  readonly count: number;
  readonly latest: ReadonlyArray<{ at?: number; thing?: string; source: string; reason: string }>;
}

export interface PipelineReads {
  /** The command shadow of a thing; empty when the thing has none yet. */
  commandShadow(thing: string): Promise<{ desired: DesiredCommandState; reported: ReportedCommandState }>;
  /** Writes `state.desired` of a thing's command shadow. */
  updateDesired(thing: string, desired: DesiredCommandState, clientToken: string): Promise<void>;
  /** How many messages the dead-letter queue holds and the latest few, described. */
  deadLetters(): Promise<DeadLetterSummary>;
  close(): void;
}

export function pipelineReads(client: LocalClientConfig, deadLetterQueueUrl?: string): PipelineReads {
  const shadows = new IoTDataPlaneClient(client);
  const sqs = new SQSClient(client);
  return {
    async commandShadow(thing) {
      try {
        const out = await shadows.send(
          new GetThingShadowCommand({ thingName: thing, shadowName: COMMAND_SHADOW_NAME }),
        );
        const doc = JSON.parse(new TextDecoder().decode(out.payload)) as {
          state?: { desired?: DesiredCommandState; reported?: ReportedCommandState };
        };
        return { desired: doc.state?.desired ?? {}, reported: doc.state?.reported ?? {} };
      } catch (err) {
        if ((err as Error).name === 'ResourceNotFoundException') return { desired: {}, reported: {} };
        throw err;
      }
    },

    async updateDesired(thing, desired, clientToken) {
      await shadows.send(
        new UpdateThingShadowCommand({
          thingName: thing,
          shadowName: COMMAND_SHADOW_NAME,
          payload: new TextEncoder().encode(JSON.stringify({ state: { desired }, clientToken })),
        }),
      );
    },

    async deadLetters() {
      if (!deadLetterQueueUrl) return { count: 0, latest: [] };
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: deadLetterQueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const count =
        Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      const peek = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
        }),
      );
      const latest = (peek.Messages ?? []).map((m) => {
        const { at, thing, source, reason } = describeDeadLetter(m.Body ?? '');
        return { at, thing, source, reason };
      });
      return { count, latest };
    },

    close() {
      shadows.destroy();
      sqs.destroy();
    },
  };
}
