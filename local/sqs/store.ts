import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppendLog, type LocalLogger, StateFile } from '../common';
import type { StoredMessage } from './types';

/**
 * The local SQS on disk, under its directory: `queues.json` holds every queue's attributes and
 * timestamps (QueueRecords, a StateFile with a last-good copy), and `messages/<queue>.jsonl`
 * each queue's messages (QueueLog, an AppendLog with group commit and quarantine).
 */

const QueueRecordSchema = z.object({
  attributes: z.record(z.string(), z.string()),
  createdAt: z.number(),
  lastModifiedAt: z.number(),
});

/** A queue's settings as `queues.json` keeps them. */
export type QueueRecord = z.infer<typeof QueueRecordSchema>;

const QueuesFileSchema = z.object({ queues: z.record(z.string(), QueueRecordSchema) });

/** `queues.json`: the queues that exist and their attributes, written on every change. */
export class QueueRecords {
  private readonly file: StateFile<{ queues: Record<string, QueueRecord> }>;

  constructor(dir: string, logger: LocalLogger) {
    this.file = StateFile.open({
      path: join(dir, 'queues.json'),
      schema: QueuesFileSchema,
      initial: () => ({ queues: {} }),
      what: 'the SQS queues and their attributes',
      logger,
      whenUnusable: 'refuse',
    });
  }

  all(): Array<[string, QueueRecord]> {
    return Object.entries(this.file.value.queues);
  }

  put(name: string, record: QueueRecord): void {
    this.file.update((v) => {
      v.queues[name] = record;
    });
  }

  remove(name: string): void {
    this.file.update((v) => {
      delete v.queues[name];
    });
  }
}

const MappingSchema = z.object({
  uuid: z.string().min(1),
  queueArn: z.string().min(1),
  functionArn: z.string().min(1),
  batchSize: z.number().optional(),
  maximumBatchingWindowSeconds: z.number().optional(),
  functionResponseTypes: z.array(z.literal('ReportBatchItemFailures')).optional(),
  enabled: z.boolean().optional(),
  /** When it was created, epoch ms (the management API's LastModified). */
  createdAt: z.number().optional(),
});
export type StoredMapping = z.infer<typeof MappingSchema>;
const MappingsFileSchema = z.object({ mappings: z.record(z.string(), MappingSchema) });

/**
 * `mappings.json`: the Lambda event source mappings, so their pollers run again after a restart
 * without a redeploy, as AWS's keep polling.
 */
export class MappingRecords {
  private readonly file: StateFile<z.infer<typeof MappingsFileSchema>>;

  constructor(dir: string, logger: LocalLogger) {
    this.file = StateFile.open({
      path: join(dir, 'mappings.json'),
      schema: MappingsFileSchema,
      initial: () => ({ mappings: {} }),
      what: 'the Lambda event source mappings of the SQS queues',
      logger,
      // The deployer creates them again on the next deploy.
      whenUnusable: 'start-empty',
    });
  }

  all(): StoredMapping[] {
    return Object.values(this.file.value.mappings);
  }

  put(mapping: StoredMapping): void {
    this.file.update((v) => {
      v.mappings[mapping.uuid] = mapping;
    });
  }

  remove(uuid: string): void {
    if (!this.file.value.mappings[uuid]) return;
    this.file.update((v) => {
      delete v.mappings[uuid];
    });
  }
}

/** Where a queue's message log lives. */
export const queueLogPath = (dir: string, name: string) => join(dir, 'messages', `${name}.jsonl`);

/**
 * A queue's messages on disk: an append-only log of sends, receives, deletes and purges. Sends
 * and purges are on disk before they are acknowledged (group commit: one fsync for the sends of
 * one event-loop turn), so an acknowledged SendMessage survives a crash; receives and deletes
 * are written without waiting for the disk (at worst a message is delivered again, which SQS's
 * at-least-once delivery allows). The log is rewritten with only the live messages when it
 * grows well past them. A damaged record is skipped and quarantined, never blocking the start.
 */
const MessageAttributeSchema = z.object({
  DataType: z.string(),
  StringValue: z.string().optional(),
  BinaryValue: z.string().optional(),
});
const StoredMessageSchema = z.object({
  id: z.string().min(1),
  body: z.string(),
  md5: z.string(),
  attributes: z.record(z.string(), MessageAttributeSchema).optional(),
  md5Attributes: z.string().optional(),
  system: z.record(z.string(), MessageAttributeSchema).optional(),
  md5System: z.string().optional(),
  sentAt: z.number(),
  senderId: z.string(),
  delayUntil: z.number(),
  deadLetterSourceArn: z.string().optional(),
  receiveCount: z.number().int().nonnegative(),
  firstReceiveAt: z.number().optional(),
});

const LogRecordSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('s'), m: StoredMessageSchema }),
  z.object({ t: z.literal('r'), id: z.string(), n: z.number(), f: z.number() }),
  z.object({ t: z.literal('d'), id: z.string() }),
  z.object({ t: z.literal('p') }),
]);
type LogRecord = z.infer<typeof LogRecordSchema>;

export interface LoadResult {
  readonly messages: StoredMessage[];
  /** Damaged records skipped (and quarantined). */
  readonly skipped: number;
}

export class QueueLog {
  private compacting = false;

  private constructor(private readonly log: AppendLog<LogRecord>) {}

  /** Reads the log (if any) and opens it for appending. */
  static open(
    path: string,
    queueName: string,
    logger: LocalLogger,
    /** The queue existed before this start, so its log should too. */
    restored = false,
  ): { log: QueueLog; loaded: LoadResult } {
    const { log, records, damaged } = AppendLog.open({
      path,
      schema: LogRecordSchema,
      what: `the message log of queue ${queueName}`,
      logger,
      ...(restored ? { missingLoses: `every message the queue held` } : {}),
    });
    const live = new Map<string, StoredMessage>();
    for (const rec of records) {
      if (rec.t === 's') live.set(rec.m.id, { ...rec.m });
      else if (rec.t === 'd') live.delete(rec.id);
      else if (rec.t === 'p') live.clear();
      else {
        const m = live.get(rec.id);
        if (m) {
          m.receiveCount = rec.n;
          m.firstReceiveAt = rec.f;
        }
      }
    }
    return { log: new QueueLog(log), loaded: { messages: [...live.values()], skipped: damaged } };
  }

  get path(): string {
    return this.log.path;
  }

  /** Resolves once the messages are on disk. */
  sent(messages: readonly StoredMessage[]): Promise<void> {
    return Promise.all(messages.map((m) => this.log.append({ t: 's', m }))).then(() => undefined);
  }

  received(m: StoredMessage): void {
    this.log.write({ t: 'r', id: m.id, n: m.receiveCount, f: m.firstReceiveAt ?? 0 });
  }

  deleted(id: string): void {
    this.log.write({ t: 'd', id });
  }

  /** Resolves once the purge is on disk. */
  purged(): Promise<void> {
    return this.log.append({ t: 'p' });
  }

  /** Rewrites the log with only the live messages once it has grown to many times their number. */
  compactIfNeeded(live: () => Iterable<StoredMessage>, liveCount: number): void {
    if (this.compacting || this.log.lines < 1000 || this.log.lines < 4 * liveCount) return;
    this.compacting = true;
    this.log
      .rewrite(function* () {
        for (const m of live()) yield { t: 's' as const, m };
      })
      .catch(() => {
        // The next compaction tries again; the log is still whole.
      })
      .finally(() => {
        this.compacting = false;
      });
  }

  close(): Promise<void> {
    return this.log.close();
  }

  /** Closes and removes the log (DeleteQueue). */
  async destroy(): Promise<void> {
    await this.log.close();
    rmSync(this.log.path, { force: true });
  }
}
