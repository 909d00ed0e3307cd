import { Duration } from 'aws-cdk-lib';
import type * as iot from 'aws-cdk-lib/aws-iot';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, ingestRule, ruleName } from '../contracts';
import type { DeadLetterQueue } from './dead-letter-queue';
import { HandlerFunction, lambdaEntry } from './handler-function';
import type { ReadingsStore } from './readings-store';
import { ruleQueue } from './rule-queue';
import { topicRule } from './topic-rule';

export interface IngestPipelineProps {
  readonly buildingId: string;
  /** Where the readings go (TelemetryTable or InfluxDbStorage). */
  readonly store: ReadingsStore;
  readonly deadLetterQueue: DeadLetterQueue;
  /** @default lambda/ingest/handler.ts in this repository */
  readonly entry?: string;
  /** @default Duration.seconds(30) */
  readonly functionTimeout?: Duration;
  /**
   * Messages per invocation, 1-10000. Timestream bills whole 1 KiB units per request, so 100
   * small records in one WriteRecords cost about 9 writes instead of 100. @default 100
   */
  readonly batchSize?: number;
  /** How long SQS gathers a batch; required above 10 messages. @default Duration.seconds(5) */
  readonly maxBatchingWindow?: Duration;
  /** Receives before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** Powertools service name. @default 'zonectl-ingest' */
  readonly serviceName?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The ingest path: telemetry topic rule -> SQS ingest queue -> ingest function (batches of up
 * to 100, partial batch failure reporting) -> Timestream. A message the function keeps failing
 * moves to the dead-letter queue after `maxReceiveCount` receives; a failed rule action goes
 * there through the rule's error action.
 */
export class IngestPipeline extends Construct {
  public readonly queue: sqs.Queue;
  public readonly handler: HandlerFunction;
  public readonly topicRule: iot.CfnTopicRule;
  public readonly ruleName: string;

  constructor(scope: Construct, id: string, props: IngestPipelineProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? 100;
    const maxBatchingWindow = props.maxBatchingWindow ?? Duration.seconds(5);
    const maxReceiveCount = props.maxReceiveCount ?? 5;

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry ?? lambdaEntry('ingest'),
      serviceName: props.serviceName ?? 'zonectl-ingest',
      description: `Writes ${props.buildingId} telemetry from the ingest queue to ${props.store.engine === 'influxdb' ? 'Timestream for InfluxDB' : 'Timestream'}`,
      timeout: props.functionTimeout,
      logRetention: props.logRetention,
      ...(props.store.functionNetwork ? { network: props.store.functionNetwork } : {}),
    });
    this.handler.setEnv(ENV.buildingId, props.buildingId);
    props.store.grantWriteTo(this.handler);
    props.deadLetterQueue.grantSendTo(this.handler);

    const fed = ruleQueue(this, {
      consumer: this.handler,
      deadLetterQueue: props.deadLetterQueue,
      batchSize,
      maxBatchingWindow,
      maxReceiveCount,
      actionRoleDescription: 'Lets the ingest topic rule send telemetry to the ingest queue',
    });
    this.queue = fed.queue;

    this.ruleName = ruleName(props.buildingId, 'ingest');
    this.topicRule = topicRule(this, 'Rule', {
      ruleName: this.ruleName,
      description: `Telemetry of ${props.buildingId} to the ingest queue`,
      rule: ingestRule(props.buildingId),
      action: fed.action,
      errorAction: props.deadLetterQueue.ruleErrorAction,
    });
  }
}
