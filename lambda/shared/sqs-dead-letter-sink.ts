import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import type { DeadLetterEntry } from '../../contracts';
import { type BackoffOptions, backoffDelayMs, sleep } from './backoff';
import type { DeadLetterSink } from './dead-letter-sink';

/**
 * DeadLetterSink adapter for an SQS queue (SendMessageBatch).
 *
 * - At most 10 entries and 256 KiB of bodies per call (SendMessageBatch limits).
 * - SendMessageBatch answers 200 with per-entry `Failed` results. Entries that failed through
 *   no fault of the sender (`SenderFault: false`), and calls that failed as a whole with a
 *   throttling or server error, are retried a bounded number of times; what still fails is
 *   returned to the caller, which keeps the source message for redelivery.
 */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BATCH_BYTES = 256 * 1024;

export interface SqsDeadLetterSinkOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly backoff?: BackoffOptions;
  readonly sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_SQS_BACKOFF: BackoffOptions = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

export class SqsDeadLetterSink implements DeadLetterSink {
  readonly #options: SqsDeadLetterSinkOptions;

  constructor(options: SqsDeadLetterSinkOptions) {
    if (!options.queueUrl) throw new Error('SqsDeadLetterSink needs a queue URL; got an empty string');
    this.#options = options;
  }

  async send(
    entries: readonly DeadLetterEntry[],
  ): Promise<{ failed: Array<{ index: number; reason: string }> }> {
    const backoff = this.#options.backoff ?? DEFAULT_SQS_BACKOFF;
    const wait = this.#options.sleep ?? sleep;
    const bodies = entries.map((e) => JSON.stringify(e));
    const final = new Map<number, string>();
    let pending = new Map<number, string>(bodies.map((_, i) => [i, '']));
    for (let attempt = 1; pending.size > 0; attempt++) {
      if (attempt > 1) await wait(backoffDelayMs(attempt - 2, backoff));
      const retry = new Map<number, string>();
      for (const pack of packBodies([...pending.keys()], bodies)) {
        for (const [index, failure] of await this.#sendPack(pack, bodies)) {
          if (failure.retryable && attempt < backoff.maxAttempts) retry.set(index, failure.reason);
          else final.set(index, failure.reason);
        }
      }
      pending = retry;
    }
    return { failed: [...final].map(([index, reason]) => ({ index, reason })) };
  }

  /** Sends one pack; returns the failed entries by index. */
  async #sendPack(
    pack: readonly number[],
    bodies: readonly string[],
  ): Promise<Map<number, { reason: string; retryable: boolean }>> {
    const failed = new Map<number, { reason: string; retryable: boolean }>();
    const request: SendMessageBatchRequestEntry[] = pack.map((index) => ({
      Id: `e${index}`,
      MessageBody: bodies[index],
    }));
    try {
      const response = await this.#options.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.#options.queueUrl, Entries: request }),
      );
      for (const f of response.Failed ?? []) {
        const index = Number(f.Id?.slice(1));
        if (!pack.includes(index)) continue;
        failed.set(index, {
          reason: `${f.Code ?? 'unknown error'}: ${f.Message ?? ''}`,
          retryable: !f.SenderFault,
        });
      }
    } catch (error) {
      // A service answer for the whole call; anything else (a bug) propagates.
      if (!(error instanceof SQSServiceException)) throw error;
      const retryable =
        error.$fault === 'server' || error.$retryable !== undefined || /Throttl/i.test(error.name);
      for (const index of pack) failed.set(index, { reason: `${error.name}: ${error.message}`, retryable });
    }
    return failed;
  }
}

/** Groups entry indices into SendMessageBatch calls within the count and size limits. */
export function packBodies(indices: readonly number[], bodies: readonly string[]): number[][] {
  const packs: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const index of indices) {
    const size = Buffer.byteLength(bodies[index] ?? '', 'utf8');
    if (
      current.length > 0 &&
      (current.length === SQS_MAX_BATCH_ENTRIES || bytes + size > SQS_MAX_BATCH_BYTES)
    ) {
      packs.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  }
  if (current.length > 0) packs.push(current);
  return packs;
}
