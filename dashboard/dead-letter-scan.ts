import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DeadLetterDescription, describeDeadLetter } from '../contracts';

/**
 * Reads every message of the dead-letter queue without consuming it. SQS has no "peek": each
 * message is received with a visibility timeout, so the next receive returns the next ones, and
 * made visible again (ChangeMessageVisibility to 0) right after, so later reads still see it.
 * ("Amazon SQS visibility timeout", Amazon SQS Developer Guide:
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html)
 *
 * Two readers hiding messages at once would each miss what the other holds, so one scanner is
 * shared by all readers of a queue (the demo's books and the dashboard) and runs one scan at a
 * time: a caller's scan starts when the one before it has made every message visible again.
 */

export interface ScannedDeadLetter extends DeadLetterDescription {
  readonly messageId: string;
  /** When SQS received it (SentTimestamp, epoch ms; wall clock). */
  readonly sentAt: number;
  /** The message body as the queue holds it. */
  readonly body: string;
}

export type DeadLetterScanner = () => Promise<ScannedDeadLetter[]>;

/** Messages hidden per scan at most: far more than a page lists, bounded so a flood stays cheap. */
const MAX_MESSAGES = 10_000;
/** Long enough for a scan of MAX_MESSAGES; each is made visible again as soon as the scan ends. */
const HIDE_SECONDS = 60;

export function createDeadLetterScanner(sqs: SQSClient, queueUrl: string): DeadLetterScanner {
  let previous: Promise<unknown> = Promise.resolve();
  const scan = async (): Promise<ScannedDeadLetter[]> => {
    const seen = new Map<string, ScannedDeadLetter>();
    const handles: string[] = [];
    try {
      while (seen.size < MAX_MESSAGES) {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: HIDE_SECONDS,
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ['SentTimestamp'],
          }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) break;
        for (const m of messages) {
          if (m.ReceiptHandle) handles.push(m.ReceiptHandle);
          if (!m.MessageId || seen.has(m.MessageId)) continue;
          seen.set(m.MessageId, {
            ...describeDeadLetter(m.Body ?? ''),
            messageId: m.MessageId,
            sentAt: Number(m.Attributes?.SentTimestamp ?? 0),
            body: m.Body ?? '',
          });
        }
      }
    } finally {
      for (let i = 0; i < handles.length; i += 10) {
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: handles
              .slice(i, i + 10)
              .map((h, j) => ({ Id: String(i + j), ReceiptHandle: h, VisibilityTimeout: 0 })),
          }),
        );
      }
    }
    return [...seen.values()];
  };
  return () => {
    const next = previous.then(scan, scan);
    previous = next.catch(() => undefined);
    return next;
  };
}
