import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { Context } from 'aws-lambda';
import {
  ENV,
  METRIC,
  METRIC_DIMENSION_BUILDING,
  METRICS_NAMESPACE,
  requireEnv,
  type ZoneControlConfig,
} from '../../contracts';
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
 * CONTROL_RULE output. The logic lives in controller.ts and policy.ts.
 * A malformed event is logged and dropped (a retry cannot fix it); shadow API failures are
 * rethrown so Lambda's asynchronous retries run again.
 */

export interface ControllerHandlerDeps {
  readonly config: ZoneControlConfig;
  readonly shadows: CommandShadows;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
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
    config: parseZoneControlConfig(requireEnv(ENV.zoneControlConfig, env)),
    shadows: new IotCommandShadows(new IoTDataPlaneClient(iotDataClientConfig(env))),
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
  });
}

/**
 * The account's own IoT data endpoint, as the stack passes it (ENV.iotDataEndpoint): AWS IoT
 * documents the shared `data-ats.iot.<region>.amazonaws.com` host, which the SDK would use
 * by default, for testing only ("AWS IoT device data and service endpoints"). An endpoint
 * set for the service through the AWS SDKs' own `AWS_ENDPOINT_URL_IOT_DATA_PLANE` (AWS SDKs
 * and Tools Reference Guide, "Service-specific endpoints") wins, as it does for any client
 * without an endpoint in code; the local cloud sets it.
 */
export function iotDataClientConfig(env: NodeJS.ProcessEnv): { endpoint?: string } {
  if (env.AWS_ENDPOINT_URL_IOT_DATA_PLANE) return {};
  return { endpoint: `https://${requireEnv(ENV.iotDataEndpoint, env)}` };
}

let fromEnv: ControllerHandler | undefined;

export const handler: ControllerHandler = (event, context) => {
  fromEnv ??= createControllerHandlerFromEnv();
  return fromEnv(event, context);
};
