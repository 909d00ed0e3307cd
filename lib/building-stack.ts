import { CfnOutput, CfnResource, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type BuildingClock, type BuildingConfig, STACK_OUTPUT } from '../contracts';
import { DeadLetterQueue } from './dead-letter-queue';
import { DeviceFleet } from './device-fleet';
import { DevicePolicy } from './device-policy';
import { FleetProvisioning } from './fleet-provisioning';
import { InfluxDbStorage } from './influxdb-storage';
import { IngestPipeline } from './ingest-pipeline';
import { Observability } from './observability';
import { ProvisioningHook } from './provisioning-hook';
import { TelemetryTable } from './telemetry-table';
import { ZoneController } from './zone-controller';

export interface BuildingStackProps extends StackProps {
  /** The validated building config (contracts `parseBuildingConfig`). */
  readonly config: BuildingConfig;
  /** The zone controller's building clock. @default 'wall' */
  readonly buildingClock?: BuildingClock;
  /** CSR PEM by thing name, as onboarding left them (stack provisioning only). @default - no certificates */
  readonly csrPems?: Readonly<Record<string, string>>;
}

/**
 * Everything one building needs on AWS: device identities, policy, rules, functions, storage,
 * alarms. With `provisioning: "stack"` every device is a thing (and, once onboarded, a
 * certificate) in the stack; with `"fleet"` the stack holds a provisioning template, its
 * pre-provisioning hook and a claim policy instead, and nothing in it grows with the fleet.
 */
export class BuildingStack extends Stack {
  public readonly deadLetterQueue: DeadLetterQueue;
  /** The LiveAnalytics table (storage.engine timestream). */
  public readonly telemetryTable?: TelemetryTable;
  /** The Timestream for InfluxDB instance (storage.engine influxdb). */
  public readonly influxDb?: InfluxDbStorage;
  public readonly devicePolicy: DevicePolicy;
  /** The devices as stack resources (stack provisioning), else undefined. */
  public readonly devices?: DeviceFleet;
  /** Fleet provisioning (fleet provisioning), else undefined. */
  public readonly fleet?: FleetProvisioning;
  public readonly provisioningHook?: ProvisioningHook;
  public readonly ingest: IngestPipeline;
  public readonly controller: ZoneController;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: BuildingStackProps) {
    super(scope, id, {
      description: `zonectl smart-building pipeline for ${props.config.name} (${props.config.buildingId})`,
      ...props,
    });
    const { config } = props;

    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters');
    if (config.storage.influxdb) {
      this.influxDb = new InfluxDbStorage(this, 'InfluxDb', {
        buildingId: config.buildingId,
        settings: config.storage.influxdb,
      });
    } else {
      this.telemetryTable = new TelemetryTable(this, 'Telemetry', {
        buildingId: config.buildingId,
        memoryRetentionHours: config.storage.memoryRetentionHours,
        magneticRetentionDays: config.storage.magneticRetentionDays,
      });
    }
    const store = this.influxDb ?? this.telemetryTable!;
    this.devicePolicy = new DevicePolicy(this, 'DevicePolicy', { buildingId: config.buildingId });
    if (config.provisioning === 'fleet') {
      if (props.csrPems && Object.keys(props.csrPems).length > 0) {
        throw new Error(
          `${this.node.path}: building '${config.buildingId}' is fleet-provisioned, so CSRs from onboarding are not used; remove them (or set provisioning to "stack")`,
        );
      }
      this.provisioningHook = new ProvisioningHook(this, 'ProvisioningHook', { config });
      this.fleet = new FleetProvisioning(this, 'FleetProvisioning', {
        config,
        devicePolicy: this.devicePolicy.policy,
        devicePolicyName: this.devicePolicy.policyName,
        hook: this.provisioningHook,
      });
    } else {
      this.devices = new DeviceFleet(this, 'Devices', {
        config,
        policyName: this.devicePolicy.policyName,
        policy: this.devicePolicy.policy,
        csrPems: props.csrPems,
      });
    }
    this.ingest = new IngestPipeline(this, 'Ingest', {
      buildingId: config.buildingId,
      store,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.controller = new ZoneController(this, 'Controller', {
      config,
      deadLetterQueue: this.deadLetterQueue,
      buildingClock: props.buildingClock,
    });
    this.observability = new Observability(this, 'Observability', {
      buildingId: config.buildingId,
      deadLetterQueue: this.deadLetterQueue.queue,
      ingestServiceName: this.ingest.handler.serviceName,
      controllerServiceName: this.controller.handler.serviceName,
      functions: [
        { label: 'ingest', function: this.ingest.handler.function },
        { label: 'controller', function: this.controller.handler.function },
        ...(this.provisioningHook
          ? [{ label: 'provisioning-hook', function: this.provisioningHook.handler.function }]
          : []),
      ],
      rules: [{ ruleName: this.ingest.ruleName }, { ruleName: this.controller.ruleName }],
      queues: [
        // Readings wait at most a batching window; a quarter of an hour means the store is failing.
        { label: 'ingest', queue: this.ingest.queue, maxAge: Duration.minutes(15) },
        // A command decided from readings older than 5 minutes is a late command.
        { label: 'control', queue: this.controller.queue, maxAge: Duration.minutes(5) },
      ],
    });

    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { key, value, description });
    output(STACK_OUTPUT.deadLetterQueueUrl, this.deadLetterQueue.queue.queueUrl, 'Dead-letter queue URL');
    output(STACK_OUTPUT.ingestQueueUrl, this.ingest.queue.queueUrl, 'Ingest queue URL');
    output(STACK_OUTPUT.controlQueueUrl, this.controller.queue.queueUrl, 'Control queue URL');
    output(STACK_OUTPUT.storageEngine, store.engine, 'Where readings are stored (storage.engine)');
    if (this.telemetryTable) {
      output(STACK_OUTPUT.timestreamDatabase, this.telemetryTable.databaseName, 'Timestream database name');
      output(STACK_OUTPUT.timestreamTable, this.telemetryTable.tableName, 'Timestream table name');
    }
    if (this.influxDb) {
      const db = this.influxDb;
      output(STACK_OUTPUT.influxDbUrl, db.url, 'InfluxDB API URL (reachable from inside the VPC)');
      output(STACK_OUTPUT.influxDbOrganization, db.organization, 'InfluxDB organization');
      output(STACK_OUTPUT.influxDbBucket, db.bucket, 'InfluxDB bucket holding the readings');
      output(
        STACK_OUTPUT.influxDbReadTokenSecretArn,
        db.readTokenSecret.secretArn,
        'Secret with a read-only API token for the readings bucket',
      );
      output(
        STACK_OUTPUT.influxDbAdminSecretArn,
        db.adminSecret.secretArn,
        'Secret with the InfluxDB admin credentials',
      );
    }
    output(STACK_OUTPUT.ingestRuleName, this.ingest.ruleName, 'Topic rule feeding the ingest queue');
    output(
      STACK_OUTPUT.controlRuleName,
      this.controller.ruleName,
      "Topic rule feeding the zone controller's queue",
    );
    output(
      STACK_OUTPUT.devicePolicyName,
      this.devicePolicy.policyName,
      'IoT policy attached to device certificates',
    );
    if (this.fleet) {
      output(
        STACK_OUTPUT.provisioningTemplateName,
        this.fleet.templateName,
        'Fleet provisioning template devices register through',
      );
      output(
        STACK_OUTPUT.claimPolicyName,
        this.fleet.claimPolicyName,
        'IoT policy for claim certificates (zonectl claim create)',
      );
    }
    output(
      STACK_OUTPUT.alarmTopicArn,
      this.observability.alarmTopic.topicArn,
      'Subscribe here to receive alarms',
    );
    checkStackLimits(this, config.provisioning);
  }
}

/** CloudFormation quotas (AWS CloudFormation User Guide, "CloudFormation quotas"). */
export const CLOUDFORMATION_LIMITS = { resources: 500, outputs: 200 } as const;

/**
 * Fails synth with the way out when a stack-provisioned building has outgrown one stack,
 * instead of CloudFormation refusing it at deploy. One resource is left for the CDK metadata
 * that synth adds.
 */
function checkStackLimits(stack: Stack, provisioning: string): void {
  const all = stack.node.findAll();
  const resources = all.filter((c) => c instanceof CfnResource).length + 1;
  const outputs = all.filter((c) => c instanceof CfnOutput).length;
  const over: string[] = [];
  if (resources > CLOUDFORMATION_LIMITS.resources) {
    over.push(`${resources} resources (CloudFormation allows ${CLOUDFORMATION_LIMITS.resources})`);
  }
  if (outputs > CLOUDFORMATION_LIMITS.outputs) {
    over.push(`${outputs} outputs (CloudFormation allows ${CLOUDFORMATION_LIMITS.outputs})`);
  }
  if (over.length === 0) return;
  const fix =
    provisioning === 'stack'
      ? 'every device is a resource with provisioning "stack" (each onboarded one adds 3 resources and 2 outputs); set "provisioning": "fleet" in the building config so devices provision themselves and the stack stays the same size'
      : 'split the building into several config files';
  throw new Error(`${stack.node.path}: the stack would have ${over.join(' and ')}: ${fix}.`);
}
