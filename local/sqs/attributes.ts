import { invalidAttributeName, invalidAttributeValue } from './errors';
import type { RedrivePolicy } from './types';

/**
 * Queue attributes (SQS API Reference, "SetQueueAttributes" and "CreateQueue" Attributes):
 * names, ranges and defaults. Values travel as strings, as in the API.
 */
export const MAX_MESSAGE_BYTES = 262_144;

export const DEFAULT_ATTRIBUTES: Readonly<Record<string, string>> = {
  DelaySeconds: '0',
  MaximumMessageSize: String(MAX_MESSAGE_BYTES),
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, MAX_MESSAGE_BYTES],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};

/** Settable attributes stored as given (not emulated beyond being reported back). */
const OPAQUE = new Set([
  'Policy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'SqsManagedSseEnabled',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);

/** Attributes GetQueueAttributes computes. */
export const COMPUTED_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
] as const;

export const SETTABLE_ATTRIBUTES = [...Object.keys(INTEGER_RANGES), 'RedrivePolicy', 'FifoQueue', ...OPAQUE];

/** Validates attributes given to CreateQueue/SetQueueAttributes; returns them normalised. */
export function validateAttributes(attributes: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(attributes)) {
    if (typeof raw !== 'string') throw invalidAttributeValue(name, 'the value must be a string');
    if (name in INTEGER_RANGES) {
      const [min, max] = INTEGER_RANGES[name]!;
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < min || n > max) {
        throw invalidAttributeValue(name, `must be an integer from ${min} to ${max}; got "${raw}"`);
      }
      out[name] = String(n);
    } else if (name === 'RedrivePolicy') {
      out[name] = raw === '' ? '' : JSON.stringify(parseRedrivePolicy(raw));
    } else if (name === 'FifoQueue') {
      if (raw !== 'false') {
        throw invalidAttributeValue(name, 'FIFO queues are not emulated by the local SQS');
      }
    } else if (OPAQUE.has(name)) {
      out[name] = raw;
    } else {
      throw invalidAttributeName(name);
    }
  }
  return out;
}

/** Parses a RedrivePolicy value (SQS Developer Guide, "Using dead-letter queues"). */
export function parseRedrivePolicy(raw: string): RedrivePolicy {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw invalidAttributeValue('RedrivePolicy', 'Redrive policy is not a valid JSON map.');
  }
  const v = (value ?? {}) as Record<string, unknown>;
  const target = v.deadLetterTargetArn;
  const count = Number(v.maxReceiveCount);
  if (typeof target !== 'string' || !/^arn:aws[\w-]*:sqs:[^:]*:[^:]*:[\w-]{1,80}$/.test(target)) {
    throw invalidAttributeValue(
      'RedrivePolicy',
      'Dead-letter target ARN is missing or not an SQS queue ARN.',
    );
  }
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw invalidAttributeValue(
      'RedrivePolicy',
      'Value for maxReceiveCount must be an integer from 1 to 1000.',
    );
  }
  return { deadLetterTargetArn: target, maxReceiveCount: count };
}

export function intAttribute(attributes: Readonly<Record<string, string>>, name: string): number {
  return Number(attributes[name] ?? DEFAULT_ATTRIBUTES[name] ?? 0);
}
