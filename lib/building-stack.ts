import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type BuildingConfig, STACK_OUTPUT } from '../contracts';
import { DeadLetterQueue } from './dead-letter-queue';
import { DeviceFleet } from './device-fleet';
import { DevicePolicy } from './device-policy';
import { IngestPipeline } from './ingest-pipeline';
import { Observability } from './observability';
import { TelemetryTable } from './telemetry-table';
import { ZoneController } from './zone-controller';

export interface BuildingStackProps extends StackProps {
  /** The validated building config (contracts `parseBuildingConfig`). */
  readonly config: BuildingConfig;
  /** CSR PEM by thing name, as onboarding left them. @default - no certificates */
  readonly csrPems?: Readonly<Record<string, string>>;
}

/** Everything one building needs on AWS: devices, policy, rules, functions, storage, alarms. */
export class BuildingStack extends Stack {
  public readonly deadLetterQueue: DeadLetterQueue;
  public readonly telemetryTable: TelemetryTable;
  public readonly devicePolicy: DevicePolicy;
  public readonly devices: DeviceFleet;
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
    this.telemetryTable = new TelemetryTable(this, 'Telemetry', {
      buildingId: config.buildingId,
      memoryRetentionHours: config.storage.memoryRetentionHours,
      magneticRetentionDays: config.storage.magneticRetentionDays,
    });
    this.devicePolicy = new DevicePolicy(this, 'DevicePolicy', { buildingId: config.buildingId });
    this.devices = new DeviceFleet(this, 'Devices', {
      config,
      policyName: this.devicePolicy.policyName,
      policy: this.devicePolicy.policy,
      csrPems: props.csrPems,
    });
    this.ingest = new IngestPipeline(this, 'Ingest', {
      buildingId: config.buildingId,
      telemetryTable: this.telemetryTable,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.controller = new ZoneController(this, 'Controller', {
      config,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.observability = new Observability(this, 'Observability', {
      buildingId: config.buildingId,
      deadLetterQueue: this.deadLetterQueue.queue,
      ingestServiceName: this.ingest.handler.serviceName,
      functions: [
        { label: 'ingest', function: this.ingest.handler.function },
        { label: 'controller', function: this.controller.handler.function },
      ],
      rules: [{ ruleName: this.ingest.ruleName }, { ruleName: this.controller.ruleName }],
    });

    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { key, value, description });
    output(STACK_OUTPUT.deadLetterQueueUrl, this.deadLetterQueue.queue.queueUrl, 'Dead-letter queue URL');
    output(STACK_OUTPUT.ingestQueueUrl, this.ingest.queue.queueUrl, 'Ingest queue URL');
    output(STACK_OUTPUT.timestreamDatabase, this.telemetryTable.databaseName, 'Timestream database name');
    output(STACK_OUTPUT.timestreamTable, this.telemetryTable.tableName, 'Timestream table name');
    output(STACK_OUTPUT.ingestRuleName, this.ingest.ruleName, 'Topic rule feeding the ingest queue');
    output(STACK_OUTPUT.controlRuleName, this.controller.ruleName, 'Topic rule invoking the zone controller');
    output(
      STACK_OUTPUT.devicePolicyName,
      this.devicePolicy.policyName,
      'IoT policy attached to device certificates',
    );
    output(
      STACK_OUTPUT.alarmTopicArn,
      this.observability.alarmTopic.topicArn,
      'Subscribe here to receive alarms',
    );
  }
}
