import { errorText, type LocalLogger } from '../common';
import type { FunctionDefinition, InvokeResult, SendToQueue } from './types';

/**
 * Asynchronous invocation (Lambda Developer Guide, "Invoking a Lambda function
 * asynchronously", "Handling errors in asynchronous invocation", "Capturing records of
 * asynchronous invocations", "Dead-letter queues"): events wait in an internal queue; a
 * function error is retried twice (about 1 and 2 minutes later in AWS; configurable here);
 * then the on-failure destination receives an invocation record and the dead-letter queue
 * receives the event with RequestID/ErrorCode/ErrorMessage attributes.
 */
export interface AsyncInvokerDeps {
  readonly logger: LocalLogger;
  /** Looks the function up at each attempt, so a redeploy's new code serves the retries. */
  readonly lookup: (name: string) => FunctionDefinition | undefined;
  readonly invokeSync: (
    def: FunctionDefinition,
    payload: unknown,
    requestId: string,
  ) => Promise<InvokeResult>;
  readonly sendToQueue?: SendToQueue;
  readonly retryDelaysMs: readonly number[];
}

export class AsyncInvoker {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: AsyncInvokerDeps) {}

  enqueue(functionName: string, payload: unknown, requestId: string): void {
    this.schedule(functionName, payload, requestId, 0, 0);
  }

  private schedule(
    functionName: string,
    payload: unknown,
    requestId: string,
    attempt: number,
    delayMs: number,
  ): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = this.attempt(functionName, payload, requestId, attempt).finally(() =>
        this.running.delete(run),
      );
      this.running.add(run);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(
    functionName: string,
    payload: unknown,
    requestId: string,
    attempt: number,
  ): Promise<void> {
    const def = this.deps.lookup(functionName);
    if (!def) {
      this.deps.logger.warn(
        `async event ${requestId} for ${functionName} dropped: the function no longer exists`,
      );
      return;
    }
    let result: InvokeResult;
    try {
      result = await this.deps.invokeSync(def, payload, requestId);
    } catch (err) {
      this.deps.logger.error(`async event ${requestId} for ${functionName} could not run: ${errorText(err)}`);
      return;
    }
    if (!result.functionError) return;
    const maxRetries = Math.min(2, def.maximumRetryAttempts ?? 2);
    const err = result.payload as { errorType?: string; errorMessage?: string };
    if (attempt < maxRetries) {
      const delay = this.deps.retryDelaysMs[attempt] ?? this.deps.retryDelaysMs.at(-1) ?? 60_000;
      this.deps.logger.warn(
        `${functionName} async event ${requestId} failed (${err.errorType}: ${err.errorMessage}); retry ${attempt + 1} of ${maxRetries} in ${delay} ms`,
      );
      this.schedule(functionName, payload, requestId, attempt + 1, delay);
      return;
    }
    await this.deadLetter(def, payload, requestId, attempt + 1, result);
  }

  private async deadLetter(
    def: FunctionDefinition,
    payload: unknown,
    requestId: string,
    invokeCount: number,
    result: InvokeResult,
  ): Promise<void> {
    const { logger, sendToQueue } = this.deps;
    const targets: string[] = [];
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
        logger.error(`${def.functionName}: sending event ${requestId} to ${arn} failed: ${errorText(err)}`);
      }
    };
    if (def.onFailureDestinationArn) {
      const record = {
        version: '1.0',
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId,
          functionArn: `${def.arn}:$LATEST`,
          condition: 'RetriesExhausted',
          approximateInvokeCount: invokeCount,
        },
        requestPayload: payload,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: result.payload,
      };
      await send(def.onFailureDestinationArn, JSON.stringify(record));
    }
    if (def.deadLetterTargetArn) {
      const err = result.payload as { errorMessage?: string };
      await send(def.deadLetterTargetArn, JSON.stringify(payload), {
        RequestID: { DataType: 'String', StringValue: requestId },
        ErrorCode: { DataType: 'Number', StringValue: '200' },
        ErrorMessage: {
          DataType: 'String',
          StringValue: String(err.errorMessage ?? 'Unhandled').slice(0, 1024),
        },
      });
    }
    logger.warn(
      `${def.functionName} async event ${requestId} failed after ${invokeCount} attempts; ${targets.length > 0 ? `sent to ${targets.join(', ')}` : 'no failure destination or dead-letter queue: event discarded'}`,
    );
  }

  /** Resolves when nothing is scheduled or running. */
  async drain(): Promise<void> {
    while (this.timers.size > 0 || this.running.size > 0) {
      if (this.running.size > 0) await Promise.all([...this.running]);
      else await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    if (this.timers.size > 0)
      this.deps.logger.warn(`${this.timers.size} queued async events discarded at shutdown`);
    this.timers.clear();
    await Promise.all([...this.running]);
  }
}
