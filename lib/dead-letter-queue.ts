import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../contracts';
import type { HandlerFunction } from './handler-function';

export interface DeadLetterQueueProps {
  /** How long a dead letter waits to be looked at. @default Duration.days(14), the SQS maximum */
  readonly retentionPeriod?: Duration;
}

/**
 * The pipeline's dead-letter queue: topic rule error actions, ingest-queue redrives and the
 * readings the ingest function could not store all land here, so nothing fails silently.
 */
export class DeadLetterQueue extends Construct {
  public readonly queue: sqs.Queue;
  /** Role the IoT rules engine assumes to run error actions; it may only send to this queue. */
  public readonly ruleErrorActionRole: iam.Role;
  /** An `errorAction` for any topic rule: the failed message and its error, to this queue. */
  public readonly ruleErrorAction: CfnTopicRule.ActionProperty;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps = {}) {
    super(scope, id);
    const retentionPeriod = props.retentionPeriod ?? Duration.days(14);
    const seconds = retentionPeriod.toSeconds();
    if (seconds < 60 || seconds > Duration.days(14).toSeconds()) {
      throw new Error(
        `${this.node.path}: retentionPeriod of ${seconds} s is outside SQS's 60 s - 14 days; pass a retention in that range`,
      );
    }
    this.queue = new sqs.Queue(this, 'Queue', {
      retentionPeriod,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.ruleErrorActionRole = new iam.Role(this, 'RuleErrorActionRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Lets AWS IoT topic rules send failed messages to the dead-letter queue',
    });
    this.ruleErrorActionRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    this.ruleErrorAction = {
      sqs: { queueUrl: this.queue.queueUrl, roleArn: this.ruleErrorActionRole.roleArn, useBase64: false },
    };
  }

  /** Grants a function sqs:SendMessage on this queue and tells it the queue URL (ENV.deadLetterQueueUrl). */
  public grantSendTo(handler: HandlerFunction): void {
    handler.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    handler.setEnv(ENV.deadLetterQueueUrl, this.queue.queueUrl);
  }
}
