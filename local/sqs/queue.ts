import { randomUUID } from 'node:crypto';
import { errorText, type LocalLogger } from '../common';
import { intAttribute, parseRedrivePolicy } from './attributes';
import { messageNotInflight, receiptHandleIsInvalid } from './errors';
import type { QueueLog } from './store';
import type { ReceivedMessage, RedrivePolicy, StoredMessage } from './types';

interface Entry {
  message: StoredMessage;
  visibleAt: number;
  /** The handle of the latest receive; only it deletes or changes visibility. */
  handle?: string;
  /** Being moved to the dead-letter queue: not delivered until the move is durable or fails. */
  moving?: boolean;
}

export interface QueueDeps {
  readonly now: () => number;
  readonly logger: LocalLogger;
  /** Resolves a dead-letter target ARN to a queue, if it exists. */
  readonly queueByArn: (arn: string) => Queue | undefined;
}

/**
 * One standard queue: messages in send order, each visible, delayed or in flight.
 * Follows the SQS Developer Guide sections "Amazon SQS visibility timeout", "Amazon SQS
 * short and long polling", "Using dead-letter queues" and "Amazon SQS delay queues".
 */
export class Queue {
  private readonly entries = new Map<string, Entry>();
  /** Messages being written: not deliverable yet, but part of the live state a compaction keeps. */
  private readonly accepting = new Map<string, StoredMessage>();
  private readonly waiters = new Set<() => void>();
  private closed = false;
  private warnedMissingDlq = false;

  constructor(
    readonly name: string,
    readonly arn: string,
    public attributes: Record<string, string>,
    readonly createdAt: number,
    public lastModifiedAt: number,
    private readonly log: QueueLog,
    private readonly deps: QueueDeps,
    loaded: readonly StoredMessage[],
  ) {
    // After a restart every message is visible again (in-flight state is not kept), except
    // those still inside their delivery delay.
    for (const m of loaded) this.entries.set(m.id, { message: m, visibleAt: m.delayUntil });
  }

  get redrivePolicy(): RedrivePolicy | undefined {
    const raw = this.attributes.RedrivePolicy;
    return raw ? parseRedrivePolicy(raw) : undefined;
  }

  /**
   * Stores messages durably; resolves once they are on disk (one fsync for every message
   * accepted in the same event-loop turn), and only then makes them deliverable and wakes long
   * polls, so a message is never delivered before it is acknowledged. Rejects with a
   * StorageUnavailableError when the disk refuses them; nothing is then kept.
   */
  async accept(messages: readonly StoredMessage[]): Promise<void> {
    if (this.closed) throw new Error(`queue ${this.name} is closed`);
    for (const m of messages) this.accepting.set(m.id, m);
    try {
      await this.log.sent(messages);
    } finally {
      for (const m of messages) this.accepting.delete(m.id);
    }
    if (this.closed) return;
    for (const m of messages) this.entries.set(m.id, { message: m, visibleAt: m.delayUntil });
    this.wake();
    this.log.compactIfNeeded(() => this.liveMessages(), this.entries.size);
  }

  counts(): { visible: number; inFlight: number; delayed: number } {
    const now = this.deps.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const e of this.entries.values()) {
      if (e.visibleAt <= now) visible++;
      else if (e.message.receiveCount === 0) delayed++;
      else inFlight++;
    }
    return { visible, inFlight, delayed };
  }

  /**
   * ReceiveMessage: up to `max` visible messages, made invisible for `visibilitySeconds`.
   * With `waitSeconds` > 0 it long-polls: it returns as soon as at least one message is
   * available, when the wait ends, or when `signal` aborts, sleeping in between (woken by a
   * send, a visibility change, or the next visibility expiry), never spinning.
   */
  /**
   * Receives up to `max` messages, long-polling up to `waitSeconds`. Without an explicit
   * visibility timeout, the queue's VisibilityTimeout at the moment a message is delivered
   * applies (a SetQueueAttributes during a long poll counts).
   */
  async receive(
    max: number,
    visibilitySeconds: number | undefined,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const got = this.take(max, visibilitySeconds ?? Number(this.attributes.VisibilityTimeout ?? 30));
      const left = deadline - Date.now();
      if (got.length > 0 || this.closed || signal?.aborted || left <= 0) return got;
      const nextVisible = this.nextVisibleIn();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, Math.min(left, nextVisible)));
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  private nextVisibleIn(): number {
    const now = this.deps.now();
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.entries.values()) if (e.visibleAt > now && e.visibleAt < next) next = e.visibleAt;
    return next - now;
  }

  private take(max: number, visibilitySeconds: number): ReceivedMessage[] {
    const now = this.deps.now();
    const retentionMs = intAttribute(this.attributes, 'MessageRetentionPeriod') * 1000;
    const redrive = this.redrivePolicy;
    const out: ReceivedMessage[] = [];
    for (const [id, e] of this.entries) {
      if (out.length >= max) break;
      if (e.visibleAt > now || e.moving) continue;
      if (now - e.message.sentAt > retentionMs) {
        // "Amazon SQS automatically deletes messages that have been in a queue for more than
        // the maximum message retention period."
        this.remove(id);
        continue;
      }
      if (redrive && e.message.receiveCount >= redrive.maxReceiveCount && this.redrive(e, redrive)) continue;
      const m = e.message;
      m.receiveCount++;
      m.firstReceiveAt ??= now;
      e.visibleAt = now + visibilitySeconds * 1000;
      e.handle = encodeHandle(this.name, id);
      this.log.received(m);
      out.push({ message: m, receiptHandle: e.handle });
    }
    this.log.compactIfNeeded(() => this.liveMessages(), this.entries.size);
    return out;
  }

  /** Moves a message to the dead-letter queue; false if that queue does not exist. */
  private redrive(e: Entry, policy: RedrivePolicy): boolean {
    const dlq = this.deps.queueByArn(policy.deadLetterTargetArn);
    if (!dlq) {
      if (!this.warnedMissingDlq) {
        this.deps.logger.warn(
          `queue ${this.name}: dead-letter queue ${policy.deadLetterTargetArn} does not exist; messages past maxReceiveCount stay here`,
        );
        this.warnedMissingDlq = true;
      }
      return false;
    }
    const m = e.message;
    const now = this.deps.now();
    const { receiveCount: _count, firstReceiveAt: _first, ...rest } = m;
    // The message leaves this queue only once the dead-letter queue has it on disk.
    e.moving = true;
    dlq
      .accept([{ ...rest, receiveCount: 0, delayUntil: now, deadLetterSourceArn: this.arn }])
      .then(() => {
        this.remove(m.id);
        this.deps.logger.info(
          `queue ${this.name}: message ${m.id} moved to ${dlq.name} after ${m.receiveCount} receives (maxReceiveCount ${policy.maxReceiveCount})`,
        );
      })
      .catch((err: unknown) => {
        e.moving = false;
        this.deps.logger.error(
          `queue ${this.name}: message ${m.id} stays here, the dead-letter queue ${dlq.name} could not take it: ${errorText(err)}`,
        );
      });
    return true;
  }

  /** DeleteMessage. A handle for a message already deleted succeeds, as in SQS. */
  delete(handle: string): void {
    const id = decodeHandle(this.name, handle);
    const e = this.entries.get(id);
    if (!e) return;
    if (e.handle !== handle) {
      // "If you receive a message more than once, each time you receive it, you get a
      // different receipt handle. You must provide the most recently received receipt
      // handle ... otherwise, the request succeeds, but the message might not be deleted."
      this.deps.logger.info(`queue ${this.name}: delete of ${id} with a stale receipt handle ignored`);
      return;
    }
    this.remove(id);
  }

  /** ChangeMessageVisibility: only for a message in flight under its latest handle. */
  changeVisibility(handle: string, seconds: number): void {
    const id = decodeHandle(this.name, handle);
    const e = this.entries.get(id);
    const now = this.deps.now();
    if (!e || e.handle !== handle || e.visibleAt <= now) throw messageNotInflight();
    e.visibleAt = now + seconds * 1000;
    this.wake();
  }

  /** PurgeQueue; resolves once the purge is on disk. */
  purge(): Promise<void> {
    this.entries.clear();
    return this.log.purged();
  }

  private remove(id: string): void {
    if (!this.entries.delete(id)) return;
    this.log.deleted(id);
    this.log.compactIfNeeded(() => this.liveMessages(), this.entries.size);
  }

  private *liveMessages(): Iterable<StoredMessage> {
    for (const e of this.entries.values()) yield e.message;
    yield* this.accepting.values();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Ends long polls and closes the log, writing what is pending. */
  close(): Promise<void> {
    this.closed = true;
    this.wake();
    return this.log.close();
  }

  /** DeleteQueue: ends long polls and removes the messages from disk. */
  destroy(): Promise<void> {
    this.closed = true;
    this.wake();
    this.entries.clear();
    return this.log.destroy();
  }
}

export function newMessageId(): string {
  return randomUUID();
}

function encodeHandle(queue: string, id: string): string {
  return Buffer.from(`${queue}\n${id}\n${randomUUID()}`, 'utf8').toString('base64url');
}

function decodeHandle(queue: string, handle: string): string {
  const parts = Buffer.from(handle, 'base64url').toString('utf8').split('\n');
  if (parts.length !== 3 || parts[0] !== queue || !parts[1]) throw receiptHandleIsInvalid(handle);
  return parts[1];
}
