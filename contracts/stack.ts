/**
 * The deployed stack's name and output keys: the CDK app sets them; onboarding, the local
 * cloud's demo and the dashboard read them (from CloudFormation or the local deployer's
 * stack-outputs.json).
 */
export const STACK_OUTPUT = {
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  ingestQueueUrl: 'IngestQueueUrl',
  controlQueueUrl: 'ControlQueueUrl',
  timestreamDatabase: 'TimestreamDatabase',
  timestreamTable: 'TimestreamTable',
  ingestRuleName: 'IngestRuleName',
  controlRuleName: 'ControlRuleName',
  devicePolicyName: 'DevicePolicyName',
  alarmTopicArn: 'AlarmTopicArn',
  /** `timestream` or `influxdb` (contracts/storage.ts). */
  storageEngine: 'StorageEngine',
  influxDbUrl: 'InfluxDbUrl',
  influxDbOrganization: 'InfluxDbOrganization',
  influxDbBucket: 'InfluxDbBucket',
  /** Secret with a read-only API token for the bucket (`{"token": ...}`), for dashboards and people. */
  influxDbReadTokenSecretArn: 'InfluxDbReadTokenSecretArn',
  /** The service's own secret with the admin user's credentials (organization, bucket, username, password). */
  influxDbAdminSecretArn: 'InfluxDbAdminSecretArn',
  /** Fleet-provisioned buildings only. */
  provisioningTemplateName: 'ProvisioningTemplateName',
  claimPolicyName: 'ClaimPolicyName',
} as const;

/** The stack name of a building: `Zonectl-<buildingId>`. */
export const buildingStackName = (buildingId: string): string => `Zonectl-${buildingId}`;

/** Where the local deployer writes resolved stack outputs, in the local cloud's state dir. */
export const STACK_OUTPUTS_FILE = 'stack-outputs.json';
