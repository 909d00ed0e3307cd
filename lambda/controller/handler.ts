import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import {
  type BuildingClock,
  ENV,
  METRIC,
  METRIC_DIMENSION_BUILDING,
  METRICS_NAMESPACE,
  parseBuildingClock,
  type ZoneControlConfig,
} from '../../contracts';
import { readConfigFile } from '../shared/config-file';
import { iotDataClientConfig } from '../shared/iot-data-endpoint';
import { type ControlMessage, groupControlBatch } from './batch';

export { iotDataClientConfig };

import type { CommandShadows } from './command-shadow';
import {
  type ControlOutcome,
  controlZone,
  InvalidControlEventError,
  parseControlEvent,
  parseZoneControlConfig,
} from './controller';
import { IotCommandShadows } from './iot-command-shadows';
import { SnapshotCache } from './snapshot-cache';

/**
 * Zone controller function. The control topic rule sends each telemetry message's control event
 * (contracts' controlRule) to the control queue; an SQS event source mapping with ReportBatchItemFailures hands
 * the function batches of them (AWS Lambda Developer Guide, "Using Lambda with Amazon SQS",
 * "Handling errors for an SQS event source in Lambda"). The batch is grouped by zone and each
 * zone decided once from all its readings (batch.ts), so the work follows the zones to decide,
 * not the messages. The logic lives in controller.ts, policy.ts and building-clock.ts
 * (ENV.buildingClock picks the building's clock; absent means the function's own). Shadows
 * read in the last second serve decisions that write nothing (snapshot-cache.ts), so the reads
 * too follow the actuators rather than the messages; a decision that writes reads first.
 *
 * - A message that is no control event is logged and dropped (a retry cannot fix it; the ingest
 *   path dead-letters the telemetry it came from).
 * - A zone whose shadows could not be read or written has all its messages reported as batch
 *   item failures: SQS delivers them again after the visibility timeout and, after the queue's
 *   maxReceiveCount, moves them to the building's dead-letter queue, whose alarm an operator sees.
 * - An event that is not an SQS batch is one control event invoked directly (by hand, or by a
 *   control rule of a deployment made before the control queue existed): decided alone, and a
 *   failure is thrown so Lambda's asynchronous retries run.
 */

export interface ControllerHandlerDeps {
  readonly config: ZoneControlConfig;
  readonly shadows: CommandShadows;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
  /** Which clock is the building's (building-clock.ts). @default 'wall' */
  readonly clock?: BuildingClock;
  /**
   * How long a command shadow read stays good for decisions that write nothing
   * (snapshot-cache.ts); 0 reads every shadow for every decision. @default 1000
   */
  readonly shadowReuseMs?: number;
}

/** How long a command shadow read serves decisions that write nothing, ms. */
export const SHADOW_REUSE_MS = 1_000;

export type ControllerHandler = (
  event: unknown,
  context?: Context,
) => Promise<SQSBatchResponse | ControlOutcome | undefined>;

export function createControllerHandler(deps: ControllerHandlerDeps): ControllerHandler {
  const { logger, metrics, config } = deps;
  const now = deps.now ?? Date.now;
  const controlDeps = {
    config,
    shadows: deps.shadows,
    now,
    clock: deps.clock,
    log: logger,
    recent: new SnapshotCache(deps.shadowReuseMs ?? SHADOW_REUSE_MS, now),
  };
  const count = (events: number, outcomes: readonly ControlOutcome[]) => {
    metrics.addDimension(METRIC_DIMENSION_BUILDING, config.building);
    metrics.addMetric(METRIC.controlEvents, MetricUnit.Count, events);
    metrics.addMetric(METRIC.controlDecisions, MetricUnit.Count, outcomes.length);
    metrics.addMetric(
      METRIC.commandsIssued,
      MetricUnit.Count,
      outcomes.reduce((n, o) => n + o.commandsIssued, 0),
    );
    metrics.addMetric(
      METRIC.overridesExpired,
      MetricUnit.Count,
      outcomes.reduce((n, o) => n + o.overridesExpired, 0),
    );
  };

  const handleBatch = async (messages: readonly ControlMessage[]): Promise<SQSBatchResponse> => {
    const batch = groupControlBatch(messages);
    for (const { messageId, reason } of batch.invalid) {
      logger.warn('control event dropped', { messageId, reason });
    }
    const results = await Promise.allSettled(batch.zones.map((z) => controlZone(z.event, controlDeps)));
    const failed: string[] = [];
    const outcomes: ControlOutcome[] = [];
    results.forEach((result, i) => {
      const zone = batch.zones[i]!;
      if (result.status === 'fulfilled') {
        outcomes.push(result.value);
        return;
      }
      failed.push(...zone.messageIds);
      logger.warn('zone not controlled; its control events return to the queue', {
        zone: zone.event.zone,
        events: zone.messageIds.length,
        error: String(result.reason),
      });
    });
    count(messages.length, outcomes);
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };

  const handleOne = async (input: unknown): Promise<ControlOutcome | undefined> => {
    try {
      const outcome = await controlZone(parseControlEvent(input), controlDeps);
      count(1, [outcome]);
      return outcome;
    } catch (error) {
      if (error instanceof InvalidControlEventError) {
        logger.warn('control event dropped', { reason: error.message });
        return undefined;
      }
      throw error;
    }
  };

  return async (input, context) => {
    if (context) logger.addContext(context);
    try {
      const records = sqsRecordsOf(input);
      return records ? await handleBatch(records) : await handleOne(input);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** The messages of an SQS event (`Records` of `aws:sqs` records), or undefined for any other event. */
function sqsRecordsOf(input: unknown): ControlMessage[] | undefined {
  const records = (input as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) return undefined;
  if (!records.every((r) => r?.eventSource === 'aws:sqs' && typeof r.messageId === 'string'))
    return undefined;
  return records.map((r) => ({ messageId: r.messageId as string, body: String(r.body ?? '') }));
}

/** Builds the handler from the function's environment, read once per execution environment. */
export function createControllerHandlerFromEnv(env: NodeJS.ProcessEnv = process.env): ControllerHandler {
  // The stack sets POWERTOOLS_SERVICE_NAME; the fallback keeps a hand-run function named.
  const serviceName = env[ENV.powertoolsServiceName] || 'zonectl-controller';
  return createControllerHandler({
    config: parseZoneControlConfig(readConfigFile(env)),
    clock: parseBuildingClock(env[ENV.buildingClock]),
    shadows: new IotCommandShadows(new IoTDataPlaneClient(iotDataClientConfig(env))),
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
  });
}

let fromEnv: ControllerHandler | undefined;

export const handler: ControllerHandler = (event, context) => {
  fromEnv ??= createControllerHandlerFromEnv();
  return fromEnv(event, context);
};
