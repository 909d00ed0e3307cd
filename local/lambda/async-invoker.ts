import { randomUUID } from 'node:crypto';
import { errorText, LocalCapacityError, type LocalLogger } from '../common';
import { AsyncEventLog, type QueuedEvent } from './async-queue';
import type { FunctionDefinition, InvokeResult, SendToQueue } from './types';

/**
 * Asynchronous invocation (Lambda Developer Guide, "Invoking a Lambda function
 * asynchronously", "Handling errors in asynchronous invocation", "Capturing records of
 * asynchronous invocations", "Dead-letter queues"): events wait in a durable queue
 * (./async-queue); each function runs at most its concurrency of them at once, oldest first; a
 * function error is retried twice (about 1 and 2 minutes later in AWS; configurable here); an
 * event older than MaximumEventAgeInSeconds (default six hours) is not run again; then the
 * on-failure destination receives an invocation record and the dead-letter queue receives the
 * event with RequestID/ErrorCode/ErrorMessage attributes. A failure to run the function at all
 * (its process could not start) is retried with a back-off from 1 s to 5 minutes, as Lambda
 * retries system errors, until the event's maximum age.
 *
 * The queue is bounded: at `maxQueuedPerFunction` events of one function, enqueue throws a
 * LocalCapacityError (the rules engine holds its action and tries again; the Invoke API
 * answers TooManyRequestsException). Events queued when the local cloud stops, or waiting for
 * a retry, run after the next start.
 *
 * LIMITATIONS versus AWS: the condition of an event that outlived its maximum age is written as
 * `EventAgeExceeded` (AWS's exact string is not in the pages followed); destinations and DLQs
 * must be SQS queues; an event can run twice around a crash (Lambda's delivery is at least once
 * too).
 */
export interface AsyncInvokerDeps {
  readonly logger: LocalLogger;
  /** Where the durable queue lives. */
  readonly dir: string;
  /** Looks the function up at each attempt, so a redeploy's new code serves the retries. */
  readonly lookup: (name: string) => FunctionDefinition | undefined;
  readonly invokeSync: (
    def: FunctionDefinition,
    payload: unknown,
    requestId: string,
  ) => Promise<InvokeResult>;
  readonly sendToQueue?: SendToQueue;
  readonly retryDelaysMs: readonly number[];
  /** Events of one function that may wait; default 10,000. */
  readonly maxQueuedPerFunction?: number;
  /** How many events of a function run at once (its concurrency). */
  readonly concurrency: (def: FunctionDefinition) => number;
  readonly now?: () => number;
}

/** Lambda keeps an event for up to six hours by default. */
const DEFAULT_MAX_EVENT_AGE_S = 21_600;
const SYSTEM_RETRY_FIRST_MS = 1_000;
const SYSTEM_RETRY_MAX_MS = 5 * 60_000;

export class AsyncInvoker {
  private readonly events = new Map<string, QueuedEvent>();
  private readonly ready = new Map<string, QueuedEvent[]>();
  private readonly running = new Map<string, number>();
  private readonly runningWork = new Set<Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly systemFailures = new Map<string, number>();
  private readonly maxQueued: number;
  private readonly now: () => number;
  private started = false;
  private closed = false;

  private constructor(
    private readonly deps: AsyncInvokerDeps,
    private readonly log: AsyncEventLog,
    restored: readonly QueuedEvent[],
  ) {
    this.maxQueued = deps.maxQueuedPerFunction ?? 10_000;
    this.now = deps.now ?? Date.now;
    for (const e of restored) this.events.set(e.requestId, e);
  }

  /** Opens the durable queue; events from before the last stop wait for `start()`. */
  static open(deps: AsyncInvokerDeps): AsyncInvoker {
    const { log, events } = AsyncEventLog.open(deps.dir, deps.logger);
    if (events.length > 0) {
      deps.logger.info(`${events.length} asynchronous invocation(s) from before the last stop are queued`);
    }
    return new AsyncInvoker(deps, log, events);
  }

  /** Starts running queued events (call once the functions exist again). */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const e of this.events.values()) this.schedule(e);
  }

  /** Events queued or waiting for a retry, per function. */
  queuedCount(functionName?: string): number {
    let n = 0;
    for (const e of this.events.values())
      if (functionName === undefined || e.functionName === functionName) n++;
    return n;
  }

  /**
   * Queues an event; resolves once it is on disk (then Invoke answers 202). Throws a
   * LocalCapacityError when the function already has `maxQueuedPerFunction` events waiting.
   */
  async enqueue(functionName: string, payload: unknown, requestId: string = randomUUID()): Promise<void> {
    if (this.closed) throw new Error('the Lambda service is stopping');
    const queued = this.queuedCount(functionName);
    if (queued >= this.maxQueued) {
      throw new LocalCapacityError(
        `the local asynchronous queue of function ${functionName} holds ${queued} events (its bound); try again once it drains`,
      );
    }
    const now = this.now();
    const event: QueuedEvent = { requestId, functionName, payload, queuedAt: now, attempts: 0, dueAt: now };
    this.events.set(requestId, event);
    try {
      await this.log.queued(event);
    } catch (err) {
      this.events.delete(requestId);
      throw err;
    }
    if (this.started && !this.closed) this.schedule(event);
  }

  private schedule(event: QueuedEvent): void {
    if (this.closed) return;
    const wait = event.dueAt - this.now();
    if (wait <= 0) {
      let q = this.ready.get(event.functionName);
      if (!q) {
        q = [];
        this.ready.set(event.functionName, q);
      }
      q.push(event);
      this.pump(event.functionName);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(event.requestId);
      event.dueAt = this.now();
      this.schedule(event);
    }, wait);
    this.timers.set(event.requestId, timer);
  }

  /** Starts due events of a function while it has concurrency left. */
  private pump(functionName: string): void {
    const q = this.ready.get(functionName);
    if (!q) return;
    const def = this.deps.lookup(functionName);
    const limit = def ? Math.max(1, this.deps.concurrency(def)) : 1;
    while (!this.closed && q.length > 0 && (this.running.get(functionName) ?? 0) < limit) {
      const event = q.shift()!;
      this.running.set(functionName, (this.running.get(functionName) ?? 0) + 1);
      const work = this.attempt(event).finally(() => {
        this.runningWork.delete(work);
        this.running.set(functionName, (this.running.get(functionName) ?? 1) - 1);
        this.pump(functionName);
      });
      this.runningWork.add(work);
    }
    if (q.length === 0) this.ready.delete(functionName);
  }

  private finish(event: QueuedEvent): void {
    this.events.delete(event.requestId);
    this.systemFailures.delete(event.requestId);
    this.log.finished(event, () => this.events.values(), this.events.size);
  }

  private async attempt(event: QueuedEvent): Promise<void> {
    const { logger } = this.deps;
    const { functionName, requestId } = event;
    const def = this.deps.lookup(functionName);
    if (!def) {
      logger.warn(`async event ${requestId} for ${functionName} dropped: the function no longer exists`);
      this.finish(event);
      return;
    }
    const maxAgeMs = (def.maximumEventAgeSeconds ?? DEFAULT_MAX_EVENT_AGE_S) * 1000;
    if (this.now() - event.queuedAt > maxAgeMs) {
      await this.giveUp(def, event, 'EventAgeExceeded', undefined);
      return;
    }
    let result: InvokeResult;
    try {
      result = await this.deps.invokeSync(def, event.payload, requestId);
    } catch (err) {
      if (this.closed) return; // stays queued for the next start
      const failures = (this.systemFailures.get(requestId) ?? 0) + 1;
      this.systemFailures.set(requestId, failures);
      const delay = Math.min(SYSTEM_RETRY_MAX_MS, SYSTEM_RETRY_FIRST_MS * 2 ** (failures - 1));
      logger.error(
        `async event ${requestId} for ${functionName} could not run: ${errorText(err)}; trying again in ${delay} ms`,
      );
      event.dueAt = this.now() + delay;
      this.log.retrying(event);
      this.schedule(event);
      return;
    }
    if (this.closed && result.functionError) return; // the stop killed it: run it after the next start
    event.attempts++;
    if (!result.functionError) {
      this.finish(event);
      return;
    }
    const maxRetries = Math.min(2, def.maximumRetryAttempts ?? 2);
    const err = result.payload as { errorType?: string; errorMessage?: string };
    if (event.attempts <= maxRetries) {
      const delay = this.deps.retryDelaysMs[event.attempts - 1] ?? this.deps.retryDelaysMs.at(-1) ?? 60_000;
      logger.warn(
        `${functionName} async event ${requestId} failed (${err.errorType}: ${err.errorMessage}); retry ${event.attempts} of ${maxRetries} in ${delay} ms`,
      );
      event.dueAt = this.now() + delay;
      this.log.retrying(event);
      this.schedule(event);
      return;
    }
    await this.giveUp(def, event, 'RetriesExhausted', result);
  }

  /** Sends the event to its destination and dead-letter queue (on disk first), then forgets it. */
  private async giveUp(
    def: FunctionDefinition,
    event: QueuedEvent,
    condition: 'RetriesExhausted' | 'EventAgeExceeded',
    result: InvokeResult | undefined,
  ): Promise<void> {
    const { logger, sendToQueue } = this.deps;
    const { requestId, payload } = event;
    const targets: string[] = [];
    let held = false;
    const send = async (arn: string, body: string, attributes?: Parameters<SendToQueue>[2]) => {
      if (!arn.startsWith('arn:aws:sqs:') || !sendToQueue) {
        logger.warn(
          `${def.functionName}: destination ${arn} is not an SQS queue the local cloud can deliver to`,
        );
        return;
      }
      try {
        await sendToQueue(arn, body, attributes);
        targets.push(arn);
      } catch (err) {
        const name = (err as { code?: string }).code ?? (err as Error).name;
        if (name === 'ServiceUnavailable') held = true;
        logger.error(`${def.functionName}: sending event ${requestId} to ${arn} failed: ${errorText(err)}`);
      }
    };
    const errorPayload = (result?.payload ?? {
      errorType: condition,
      errorMessage: `event older than ${def.maximumEventAgeSeconds ?? DEFAULT_MAX_EVENT_AGE_S} s`,
    }) as { errorMessage?: string };
    if (def.onFailureDestinationArn) {
      const record = {
        version: '1.0',
        timestamp: new Date(this.now()).toISOString(),
        requestContext: {
          requestId,
          functionArn: `${def.arn}:$LATEST`,
          condition,
          approximateInvokeCount: event.attempts,
        },
        requestPayload: payload,
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          ...(result?.functionError ? { functionError: 'Unhandled' } : {}),
        },
        ...(result ? { responsePayload: result.payload } : {}),
      };
      await send(def.onFailureDestinationArn, JSON.stringify(record));
    }
    if (def.deadLetterTargetArn) {
      await send(def.deadLetterTargetArn, JSON.stringify(payload), {
        RequestID: { DataType: 'String', StringValue: requestId },
        ErrorCode: { DataType: 'Number', StringValue: '200' },
        ErrorMessage: {
          DataType: 'String',
          StringValue: String(errorPayload.errorMessage ?? 'Unhandled').slice(0, 1024),
        },
      });
    }
    if (held && !this.closed) {
      // The local disk refused the dead letter: keep the event and try again later.
      event.dueAt = this.now() + SYSTEM_RETRY_FIRST_MS * 5;
      this.log.retrying(event);
      this.schedule(event);
      return;
    }
    logger.warn(
      `${def.functionName} async event ${requestId} ${condition === 'EventAgeExceeded' ? 'outlived its maximum age' : `failed after ${event.attempts} attempts`}; ${targets.length > 0 ? `sent to ${targets.join(', ')}` : 'no failure destination or dead-letter queue: event discarded'}`,
    );
    this.finish(event);
  }

  /** Resolves when nothing is queued, waiting for a retry, or running. */
  async drain(): Promise<void> {
    while (this.events.size > 0 || this.runningWork.size > 0) {
      if (this.runningWork.size > 0) await Promise.all([...this.runningWork]);
      else await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Stops running events and waits for those in flight (the caller stops the functions'
   * processes); everything not finished stays in the durable queue for the next start.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.ready.clear();
    await Promise.allSettled([...this.runningWork]);
    if (this.events.size > 0) {
      this.deps.logger.info(
        `${this.events.size} asynchronous invocation(s) stay queued on disk and run after the next start`,
      );
    }
    await this.log.close();
  }
}
