import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as iot from 'aws-cdk-lib/aws-iot';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, ingestRule, ruleName } from '../contracts';
import type { DeadLetterQueue } from './dead-letter-queue';
import { HandlerFunction, lambdaEntry } from './handler-function';
import type { TelemetryTable } from './telemetry-table';
import { topicRule } from './topic-rule';

export interface IngestPipelineProps {
  readonly buildingId: string;
  readonly telemetryTable: TelemetryTable;
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
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) {
      throw new Error(
        `${this.node.path}: batchSize ${batchSize} is outside SQS's 1-10000; pass a whole number in range`,
      );
    }
    if (batchSize > 10 && maxBatchingWindow.toSeconds() === 0) {
      throw new Error(
        `${this.node.path}: batchSize ${batchSize} needs a maxBatchingWindow above 0 s (Lambda requires one for batches over 10); pass e.g. Duration.seconds(5)`,
      );
    }
    if (maxBatchingWindow.toSeconds() > 300) {
      throw new Error(
        `${this.node.path}: maxBatchingWindow of ${maxBatchingWindow.toSeconds()} s is over Lambda's 300 s; pass a shorter window`,
      );
    }
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw new Error(
        `${this.node.path}: maxReceiveCount ${maxReceiveCount} is outside SQS's 1-1000; pass a whole number in range`,
      );
    }

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.entry ?? lambdaEntry('ingest'),
      serviceName: props.serviceName ?? 'zonectl-ingest',
      description: `Writes ${props.buildingId} telemetry from the ingest queue to Timestream`,
      timeout: props.functionTimeout,
      logRetention: props.logRetention,
    });
    this.handler.setEnv(ENV.buildingId, props.buildingId);
    props.telemetryTable.grantWriteTo(this.handler);
    props.deadLetterQueue.grantSendTo(this.handler);

    // AWS guidance for SQS event sources: visibility timeout at least 6x the function timeout
    // (plus the batching window), so retries by the poller never overlap a running batch.
    const visibilityTimeout = Duration.seconds(
      this.handler.timeout.toSeconds() * 6 + maxBatchingWindow.toSeconds(),
    );
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: props.deadLetterQueue.queue, maxReceiveCount },
    });
    this.handler.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize, maxBatchingWindow, reportBatchItemFailures: true }),
    );

    const actionRole = new iam.Role(this, 'RuleActionRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Lets the ingest topic rule send telemetry to the ingest queue',
    });
    actionRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );

    this.ruleName = ruleName(props.buildingId, 'ingest');
    this.topicRule = topicRule(this, 'Rule', {
      ruleName: this.ruleName,
      description: `Telemetry of ${props.buildingId} to the ingest queue`,
      rule: ingestRule(props.buildingId),
      action: { sqs: { queueUrl: this.queue.queueUrl, roleArn: actionRole.roleArn, useBase64: false } },
      errorAction: props.deadLetterQueue.ruleErrorAction,
    });
  }
}
