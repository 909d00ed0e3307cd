/**
 * The broker's inbound journal: every QoS 1 message the broker accepts (from a device, or
 * published by a service such as the Device Shadow or a rule's republish action) that a crash
 * could take from someone (a service acts on it, a persistent session may queue it, or it is
 * retained; see service.ts) is appended here and on disk before the broker acknowledges it:
 * before the PUBACK for a device, before `publish()` resolves for a service. Once the services
 * that act on it (the rules engine, the shadow service, the offline queues of persistent
 * sessions) have made its effects durable, a `done` record follows. After a crash or a stop,
 * the messages without one are handed to those services again when the cloud starts: at least
 * once, as AWS IoT delivers QoS 1.
 *
 * AWS IoT Core Developer Guide, "MQTT" > "Quality of service (QoS)": with QoS 1 the broker
 * acknowledges a message it has accepted and it is delivered at least once; "Rules for AWS
 * IoT": the rules engine then carries out the actions. The journal keeps that promise across a
 * crash of the local cloud.
 *
 * Group commit (../common/append-log): messages accepted in one event-loop turn cost one fsync.
 * The number of messages waiting for their services is bounded (`maxPending`): at the bound the
 * broker holds new PUBACKs until the services catch up, so memory stays bounded and nothing
 * acknowledged is dropped.
 *
 * LIMITATIONS versus AWS: QoS 0 messages are not journaled (AWS delivers them at most once);
 * a message whose services finished just before a crash, but whose `done` record had not been
 * written, is delivered again after the restart (a duplicate the pipeline's idempotent store
 * absorbs).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppendLog, errorText, type LocalLogger } from '../common';
import type { BrokerMessage } from './types';

export const JOURNAL_FILE = 'inbound.journal';

/** A message as the journal keeps it: the broker's message with the journal's id. */
export interface JournaledMessage extends BrokerMessage {
  readonly id: string;
}

const RecordSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('m'),
    id: z.string().min(1),
    topic: z.string().min(1),
    p: z.string(),
    q: z.union([z.literal(0), z.literal(1)]),
    r: z.boolean(),
    c: z.string().optional(),
    pr: z.string().optional(),
    th: z.string().optional(),
    ip: z.string().optional(),
    h: z.number().int().nonnegative().optional(),
    at: z.number(),
  }),
  z.object({ t: z.literal('d'), id: z.string().min(1) }),
]);
type JournalRecord = z.infer<typeof RecordSchema>;

const toRecord = (m: JournaledMessage): JournalRecord => ({
  t: 'm',
  id: m.id,
  topic: m.topic,
  p: m.payload.toString('base64'),
  q: m.qos,
  r: m.retain,
  ...(m.clientId !== undefined ? { c: m.clientId } : {}),
  ...(m.principal !== undefined ? { pr: m.principal } : {}),
  ...(m.thingName !== undefined ? { th: m.thingName } : {}),
  ...(m.sourceIp !== undefined ? { ip: m.sourceIp } : {}),
  ...(m.hops ? { h: m.hops } : {}),
  at: m.receivedAt,
});

const fromRecord = (r: Extract<JournalRecord, { t: 'm' }>): JournaledMessage => ({
  id: r.id,
  topic: r.topic,
  payload: Buffer.from(r.p, 'base64'),
  qos: r.q,
  retain: r.r,
  ...(r.c !== undefined ? { clientId: r.c } : {}),
  ...(r.pr !== undefined ? { principal: r.pr } : {}),
  ...(r.th !== undefined ? { thingName: r.th } : {}),
  ...(r.ip !== undefined ? { sourceIp: r.ip } : {}),
  ...(r.h ? { hops: r.h } : {}),
  receivedAt: r.at,
});

export interface JournalOptions {
  readonly dir: string;
  readonly logger: LocalLogger;
  /** Messages waiting for their services before new ones are held; default 10,000. */
  readonly maxPending?: number;
  /** Delay before a write that failed for lack of disk is tried again; default 1 s. */
  readonly retryMs?: number;
}

export class InboundJournal {
  private readonly pending = new Map<string, JournaledMessage>();
  private readonly roomWaiters: Array<() => void> = [];
  private readonly emptyWaiters: Array<() => void> = [];
  private readonly maxPending: number;
  private readonly retryMs: number;
  private counter = 0;
  private readonly prefix = Date.now().toString(36);
  private compacting = false;
  private closed = false;

  private constructor(
    private readonly log: AppendLog<JournalRecord>,
    private readonly logger: LocalLogger,
    options: JournalOptions,
    restored: readonly JournaledMessage[],
  ) {
    this.maxPending = options.maxPending ?? 10_000;
    this.retryMs = options.retryMs ?? 1_000;
    for (const m of restored) this.pending.set(m.id, m);
  }

  static open(options: JournalOptions): InboundJournal {
    const { log, records } = AppendLog.open({
      path: join(options.dir, JOURNAL_FILE),
      schema: RecordSchema,
      what: "the broker's inbound journal",
      logger: options.logger,
      // The broker writes its state file at its first start, next to the journal.
      ...(existsSync(join(options.dir, 'state.json'))
        ? { missingLoses: 'every accepted message whose rule actions had not finished' }
        : {}),
    });
    const waiting = new Map<string, JournaledMessage>();
    for (const r of records) {
      if (r.t === 'm') waiting.set(r.id, fromRecord(r));
      else waiting.delete(r.id);
    }
    return new InboundJournal(log, options.logger, options, [...waiting.values()]);
  }

  /** Messages accepted and not yet done, oldest first (to hand to the services after a start). */
  waiting(): JournaledMessage[] {
    return [...this.pending.values()];
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  newId(): string {
    this.counter++;
    return `${this.prefix}-${this.counter.toString(36)}`;
  }

  /**
   * Journals a message; resolves once it is on disk. With `waitForRoom` (a device's publish)
   * it first waits while `maxPending` messages wait for their services; a service's publish
   * never waits for room, because handling the pending messages is what publishes it. Waits
   * while the disk refuses the write (a full disk), trying again every `retryMs`: the caller's
   * acknowledgement waits with it. Rejects only when the journal closes.
   */
  async accept(message: Omit<JournaledMessage, 'id'>, waitForRoom = true): Promise<JournaledMessage> {
    while (waitForRoom && this.pending.size >= this.maxPending && !this.closed) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    if (this.closed) throw new Error('the broker is stopping');
    const journaled: JournaledMessage = { ...message, id: this.newId() };
    this.pending.set(journaled.id, journaled);
    try {
      await this.log.appendHeld(toRecord(journaled), {
        retryMs: this.retryMs,
        stopped: () => this.closed,
        held: (err) =>
          `cannot journal an incoming message: ${errorText(err)}; publishes are held without PUBACK until the write succeeds (retrying every ${this.retryMs} ms)`,
        written: "the broker's inbound journal is writable again; acknowledging publishes",
      });
      return journaled;
    } catch (err) {
      this.pending.delete(journaled.id);
      this.wakeRoom();
      throw err;
    }
  }

  /** The services are done with a message: its effects are durable. */
  done(id: string): void {
    if (!this.pending.delete(id)) return;
    if (!this.closed) this.log.write({ t: 'd', id });
    this.wakeRoom();
    if (this.pending.size === 0) for (const w of this.emptyWaiters.splice(0)) w();
    this.compactIfNeeded();
  }

  private wakeRoom(): void {
    while (this.pending.size < this.maxPending && this.roomWaiters.length > 0) this.roomWaiters.shift()!();
  }

  private compactIfNeeded(): void {
    if (this.compacting || this.closed) return;
    if (this.log.lines < 1000 || this.log.lines < 4 * this.pending.size) return;
    this.compacting = true;
    this.log
      .rewrite(() => [...this.pending.values()].map(toRecord))
      .catch((err: unknown) => this.logger.warn(`could not compact the inbound journal: ${errorText(err)}`))
      .finally(() => {
        this.compacting = false;
      });
  }

  /**
   * Waits up to `timeoutMs` for every pending message to be done; returns how many are still
   * pending (kept in the journal for the next start).
   */
  async drain(timeoutMs: number): Promise<number> {
    if (this.pending.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.emptyWaiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return this.pending.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.roomWaiters.splice(0)) w();
    await this.log.close();
  }
}
