import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ENV, METRIC, METRIC_DIMENSION_BUILDING, METRICS_NAMESPACE, requireEnv } from '../../contracts';
import type { DeadLetterSink } from '../shared/dead-letter-sink';
import { SqsDeadLetterSink } from '../shared/sqs-dead-letter-sink';
import type { TelemetryStore } from '../shared/telemetry-store';
import { TimestreamStore } from '../shared/timestream-store';
import { type IngestOutcome, ingestBatch } from './ingest';

/**
 * Ingest function: SQS (ingest queue, ReportBatchItemFailures) -> TelemetryStore, with invalid
 * and store-rejected readings sent to the dead-letter queue. The logic lives in ingest.ts.
 *
 * On Powertools batch: its record processor handles one record at a time, but the point of
 * this function is one store write spanning many messages, so the work runs over the whole
 * batch first (ingestBatch). The BatchProcessor is then used only to map the per-message
 * outcome to the partial batch response, so the response follows Powertools' SQS semantics
 * (itemIdentifier = messageId; an event that is not an SQS batch is refused). With
 * throwOnFullBatchFailure off, a batch where every message failed is answered by listing them
 * all, which SQS treats like a failed invocation without counting a function error.
 */

export class MessageNotStoredError extends Error {
  override readonly name = 'MessageNotStoredError';
  constructor(readonly messageId: string) {
    super(`message ${messageId} was not fully stored or dead-lettered; SQS will deliver it again`);
  }
}

export interface IngestHandlerDeps {
  readonly store: TelemetryStore;
  readonly deadLetters: DeadLetterSink;
  readonly building: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
}

export type IngestHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export function createIngestHandler(deps: IngestHandlerDeps): IngestHandler {
  const { logger, metrics } = deps;
  return async (event, context) => {
    if (context) logger.addContext(context);
    const records = Array.isArray(event?.Records) ? event.Records : [];
    try {
      const outcome = await ingestBatch(
        records.map((r) => ({ id: r.messageId, body: r.body })),
        {
          building: deps.building,
          store: deps.store,
          deadLetters: deps.deadLetters,
          now: deps.now ?? Date.now,
          log: logger,
        },
      );
      recordMetrics(metrics, deps.building, outcome);
      logger.info('batch ingested', { messages: records.length, ...outcome.counts });
      const failed = new Set(outcome.failedMessageIds);
      return await processPartialResponse(
        event,
        async (record: SQSRecord) => {
          if (failed.has(record.messageId)) throw new MessageNotStoredError(record.messageId);
        },
        new BatchProcessor(EventType.SQS, { logger: silentBatchLogger }),
        { context, throwOnFullBatchFailure: false },
      );
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** The processor would log every expected MessageNotStoredError again; ingestBatch already said why. */
const silentBatchLogger = { debug: () => undefined, warn: () => undefined, error: () => undefined };

function recordMetrics(metrics: Metrics, building: string, outcome: IngestOutcome): void {
  const c = outcome.counts;
  metrics.addDimension(METRIC_DIMENSION_BUILDING, building);
  metrics.addMetric(METRIC.readingsReceived, MetricUnit.Count, c.received);
  metrics.addMetric(METRIC.readingsStored, MetricUnit.Count, c.stored);
  metrics.addMetric(METRIC.readingsInvalid, MetricUnit.Count, c.invalid);
  metrics.addMetric(METRIC.readingsRejected, MetricUnit.Count, c.rejected);
  // Readings that stay unwritten because the store kept throttling (or was unavailable).
  metrics.addMetric(METRIC.storeThrottled, MetricUnit.Count, c.deferred);
}

/** Builds the handler from the function's environment, read once per execution environment. */
export function createIngestHandlerFromEnv(env: NodeJS.ProcessEnv = process.env): IngestHandler {
  const building = requireEnv(ENV.buildingId, env);
  // The stack sets POWERTOOLS_SERVICE_NAME; the fallback keeps a hand-run function named.
  const serviceName = env[ENV.powertoolsServiceName] || 'zonectl-ingest';
  const logger = new Logger({ serviceName });
  return createIngestHandler({
    building,
    logger,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
    store: new TimestreamStore({
      // The store owns the retry policy for throttling (bounded backoff with jitter).
      client: new TimestreamWriteClient({ maxAttempts: 1 }),
      database: requireEnv(ENV.timestreamDatabase, env),
      table: requireEnv(ENV.timestreamTable, env),
      onRetry: ({ attempt, delayMs, error }) =>
        logger.warn('store write retried', { attempt, delayMs, error: `${error.name}: ${error.message}` }),
    }),
    deadLetters: new SqsDeadLetterSink({
      client: new SQSClient({}),
      queueUrl: requireEnv(ENV.deadLetterQueueUrl, env),
    }),
  });
}

let fromEnv: IngestHandler | undefined;

export const handler: IngestHandler = (event, context) => {
  fromEnv ??= createIngestHandlerFromEnv();
  return fromEnv(event, context);
};
