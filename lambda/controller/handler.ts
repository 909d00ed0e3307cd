import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { Context } from 'aws-lambda';
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

/**
 * Zone controller function, invoked asynchronously by the control topic rule with the
 * CONTROL_RULE output. The logic lives in controller.ts, policy.ts and building-clock.ts
 * (ENV.buildingClock picks the building's clock; absent means the function's own).
 * A malformed event is logged and dropped (a retry cannot fix it); shadow API failures are
 * rethrown so Lambda's asynchronous retries run again.
 */

export interface ControllerHandlerDeps {
  readonly config: ZoneControlConfig;
  readonly shadows: CommandShadows;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
  /** Which clock is the building's (building-clock.ts). @default 'wall' */
  readonly clock?: BuildingClock;
}

export type ControllerHandler = (event: unknown, context?: Context) => Promise<ControlOutcome | undefined>;

export function createControllerHandler(deps: ControllerHandlerDeps): ControllerHandler {
  const { logger, metrics, config } = deps;
  return async (input, context) => {
    if (context) logger.addContext(context);
    try {
      const event = parseControlEvent(input);
      const outcome = await controlZone(event, {
        config,
        shadows: deps.shadows,
        now: deps.now ?? Date.now,
        clock: deps.clock,
        log: logger,
      });
      metrics.addDimension(METRIC_DIMENSION_BUILDING, config.building);
      metrics.addMetric(METRIC.commandsIssued, MetricUnit.Count, outcome.commandsIssued);
      metrics.addMetric(METRIC.overridesExpired, MetricUnit.Count, outcome.overridesExpired);
      return outcome;
    } catch (error) {
      if (error instanceof InvalidControlEventError) {
        logger.warn('control event dropped', { reason: error.message });
        return undefined;
      }
      throw error;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
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
