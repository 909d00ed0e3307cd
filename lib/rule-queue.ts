import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { DeadLetterQueue } from './dead-letter-queue';
import type { HandlerFunction } from './handler-function';

export interface RuleQueueProps {
  /** The function that takes the queue in batches. */
  readonly consumer: HandlerFunction;
  /** Where a message goes after `maxReceiveCount` failed receives. */
  readonly deadLetterQueue: DeadLetterQueue;
  /** Messages per invocation, 1-10000. */
  readonly batchSize: number;
  /** How long Lambda gathers a batch, 0-300 s; above 0 when batchSize is over 10. */
  readonly maxBatchingWindow: Duration;
  /** Receives before a message moves to the dead-letter queue, 1-1000. */
  readonly maxReceiveCount: number;
  /** What the rule's action role is for, for people reading IAM. */
  readonly actionRoleDescription: string;
}

export interface RuleQueue {
  readonly queue: sqs.Queue;
  /** The role the topic rule's SQS action assumes; it may send to this queue only. */
  readonly actionRole: iam.Role;
  /** The topic rule action that sends the rule's output to the queue. */
  readonly action: CfnTopicRule.ActionProperty;
}

/**
 * A topic rule's SQS queue and its consumer: creates, in `scope`, the queue (`Queue`, SSE,
 * TLS only, redrive to the dead-letter queue) and the rule action's role (`RuleActionRole`),
 * and subscribes the consumer through an SQS event source mapping with partial batch failure
 * reporting. Follows the AWS Lambda Developer Guide, "Using Lambda with Amazon SQS" >
 * "Creating and configuring an Amazon SQS event source mapping": the visibility timeout is six
 * times the function timeout (plus the batching window) so a throttled batch can be retried
 * before its messages show again, batches above 10 need a batching window, and a maxReceiveCount
 * of at least 5 keeps throttling from moving messages to the dead-letter queue.
 */
export function ruleQueue(scope: Construct, props: RuleQueueProps): RuleQueue {
  const { batchSize, maxBatchingWindow, maxReceiveCount } = props;
  const where = scope.node.path;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) {
    throw new Error(
      `${where}: batchSize ${batchSize} is outside SQS's 1-10000; pass a whole number in range`,
    );
  }
  if (batchSize > 10 && maxBatchingWindow.toSeconds() === 0) {
    throw new Error(
      `${where}: batchSize ${batchSize} needs a maxBatchingWindow above 0 s (Lambda requires one for batches over 10); pass e.g. Duration.seconds(5)`,
    );
  }
  if (maxBatchingWindow.toSeconds() > 300) {
    throw new Error(
      `${where}: maxBatchingWindow of ${maxBatchingWindow.toSeconds()} s is over Lambda's 300 s; pass a shorter window`,
    );
  }
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new Error(
      `${where}: maxReceiveCount ${maxReceiveCount} is outside SQS's 1-1000; pass a whole number in range`,
    );
  }

  const visibilityTimeout = Duration.seconds(
    props.consumer.timeout.toSeconds() * 6 + maxBatchingWindow.toSeconds(),
  );
  const queue = new sqs.Queue(scope, 'Queue', {
    visibilityTimeout,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    deadLetterQueue: { queue: props.deadLetterQueue.queue, maxReceiveCount },
  });
  props.consumer.function.addEventSource(
    new SqsEventSource(queue, { batchSize, maxBatchingWindow, reportBatchItemFailures: true }),
  );

  const actionRole = new iam.Role(scope, 'RuleActionRole', {
    assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }),
    description: props.actionRoleDescription,
  });
  actionRole.addToPolicy(
    new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
  );

  return {
    queue,
    actionRole,
    action: { sqs: { queueUrl: queue.queueUrl, roleArn: actionRole.roleArn, useBase64: false } },
  };
}
