/**
 * The durable queue of asynchronous invocations: `<dir>/async-events.log`, an AppendLog
 * (../common/append-log) of events queued, retries scheduled and events finished. An Invoke
 * with InvocationType Event is answered 202 only once its event is on disk (group commit), and
 * the events still queued or waiting for a retry when the local cloud stops or crashes run
 * after the next start, with their attempt count and their original age.
 *
 * Lambda Developer Guide, "Invoking a Lambda function asynchronously": Lambda places the event
 * in a queue and returns a success response; a separate process reads events from the queue;
 * events are kept for up to six hours (MaximumEventAgeInSeconds) and retried on function errors.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppendLog, type LocalLogger } from '../common';
import { FUNCTIONS_FILE } from './store';

export const ASYNC_QUEUE_FILE = 'async-events.log';

/** One queued event. */
export interface QueuedEvent {
  readonly requestId: string;
  readonly functionName: string;
  readonly payload: unknown;
  /** When it was queued, epoch ms (its age counts from here, across restarts). */
  readonly queuedAt: number;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due, epoch ms. */
  dueAt: number;
}

const RecordSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('e'),
    id: z.string().min(1),
    fn: z.string().min(1),
    payload: z.unknown(),
    at: z.number(),
  }),
  z.object({ t: z.literal('a'), id: z.string().min(1), n: z.number().int().nonnegative(), due: z.number() }),
  z.object({ t: z.literal('x'), id: z.string().min(1) }),
]);
type QueueRecord = z.infer<typeof RecordSchema>;

export class AsyncEventLog {
  private compacting = false;

  private constructor(
    private readonly log: AppendLog<QueueRecord>,
    private readonly logger: LocalLogger,
  ) {}

  /** Opens the log; returns the events that were queued and not finished, oldest first. */
  static open(dir: string, logger: LocalLogger): { log: AsyncEventLog; events: QueuedEvent[] } {
    const { log, records } = AppendLog.open({
      path: join(dir, ASYNC_QUEUE_FILE),
      schema: RecordSchema,
      what: 'the queue of asynchronous Lambda invocations',
      logger,
      ...(existsSync(join(dir, FUNCTIONS_FILE))
        ? { missingLoses: 'every queued asynchronous invocation' }
        : {}),
    });
    const events = new Map<string, QueuedEvent>();
    for (const r of records) {
      if (r.t === 'e') {
        events.set(r.id, {
          requestId: r.id,
          functionName: r.fn,
          payload: r.payload,
          queuedAt: r.at,
          attempts: 0,
          dueAt: r.at,
        });
      } else if (r.t === 'a') {
        const e = events.get(r.id);
        if (e) {
          e.attempts = r.n;
          e.dueAt = r.due;
        }
      } else events.delete(r.id);
    }
    return { log: new AsyncEventLog(log, logger), events: [...events.values()] };
  }

  /** Resolves once the event is on disk. */
  queued(event: QueuedEvent): Promise<void> {
    return this.log.append({
      t: 'e',
      id: event.requestId,
      fn: event.functionName,
      payload: event.payload,
      at: event.queuedAt,
    });
  }

  /** A retry was scheduled (written without waiting: losing it only runs the retry sooner). */
  retrying(event: QueuedEvent): void {
    this.log.write({ t: 'a', id: event.requestId, n: event.attempts, due: event.dueAt });
  }

  /**
   * The event is finished: succeeded, or handed to its dead-letter queue or destination (durably
   * first), or discarded. Losing this record runs the event once more after a crash, the
   * at-least-once delivery Lambda documents for asynchronous invocation.
   */
  finished(event: QueuedEvent, live: () => Iterable<QueuedEvent>, liveCount: number): void {
    this.log.write({ t: 'x', id: event.requestId });
    if (this.compacting || this.log.lines < 1000 || this.log.lines < 4 * liveCount) return;
    this.compacting = true;
    this.log
      .rewrite(function* () {
        for (const e of live()) {
          yield { t: 'e' as const, id: e.requestId, fn: e.functionName, payload: e.payload, at: e.queuedAt };
          if (e.attempts > 0) yield { t: 'a' as const, id: e.requestId, n: e.attempts, due: e.dueAt };
        }
      })
      .catch((err: unknown) => this.logger.warn(`could not compact the async event queue: ${String(err)}`))
      .finally(() => {
        this.compacting = false;
      });
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
