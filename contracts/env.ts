/**
 * Environment variable names shared by the CDK constructs that set them and the handlers
 * that read them. Read each through `requireEnv` so a missing one names itself.
 */
export const ENV = {
  timestreamDatabase: 'TIMESTREAM_DATABASE',
  timestreamTable: 'TIMESTREAM_TABLE',
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  buildingId: 'BUILDING_ID',
  /**
   * A JSON file shipped in the function's asset: the ZoneControlConfig (contracts/control.ts)
   * of the controller, the ProvisioningInventory (contracts/provisioning.ts) of the hook. A
   * relative path is read from the function's task root. A file, not an environment value,
   * because Lambda allows 4 KB of environment variables in all, far less than a building of
   * thousands of devices needs.
   */
  configFile: 'ZONECTL_CONFIG_FILE',
  /** The account's AWS IoT data endpoint host (DescribeEndpoint iot:Data-ATS), for shadow calls. */
  iotDataEndpoint: 'IOT_DATA_ENDPOINT',
  /** 'wall' (absent) or 'readings': the zone controller's building clock (contracts/control.ts). */
  buildingClock: 'ZONECTL_BUILDING_CLOCK',
  powertoolsServiceName: 'POWERTOOLS_SERVICE_NAME',
  powertoolsMetricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

export class MissingEnvError extends Error {
  override readonly name = 'MissingEnvError';
  constructor(readonly variable: string) {
    super(
      `environment variable ${variable} is not set; the stack sets it on the function, so redeploy the stack`,
    );
  }
}

export function requireEnv(name: EnvName, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new MissingEnvError(name);
  return value;
}

/** CloudWatch metrics namespace used by every handler. */
export const METRICS_NAMESPACE = 'zonectl';
