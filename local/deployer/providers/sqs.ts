/**
 * AWS::SQS::Queue (AWS CloudFormation User Guide: `Ref` is the queue URL; `Fn::GetAtt` Arn,
 * QueueName, QueueUrl) created in the local SQS; a FIFO queue is refused by it.
 */
import type { ResourceProvider } from '../types';
import type { LocalServices } from './shared';
import { str } from './shared';

export function sqsProviders(s: LocalServices): Record<string, ResourceProvider> {
  const queue: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
      const name = str(p.QueueName) ?? req.physicalName(fifo ? 75 : 80) + (fifo ? '.fifo' : '');
      const attributes: Record<string, string> = {};
      for (const key of [
        'VisibilityTimeout',
        'MessageRetentionPeriod',
        'DelaySeconds',
        'MaximumMessageSize',
        'ReceiveMessageWaitTimeSeconds',
      ]) {
        if (p[key] !== undefined) attributes[key] = String(p[key]);
      }
      if (p.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
      const exists = s.sqs.listQueues().some((q) => q.name === name);
      const url = exists ? s.sqs.queueUrlOf(name) : await s.sqs.createQueue(name, attributes);
      if (exists && Object.keys(attributes).length > 0) await s.sqs.setQueueAttributes(url, attributes);
      return {
        ref: url,
        attributes: { Arn: s.sqs.queueArnOf(name), QueueName: name, QueueUrl: url },
        emulated: true,
      };
    },
    async remove(res) {
      await s.sqs.deleteQueue(res.ref).catch(() => {});
    },
  };
  return { 'AWS::SQS::Queue': queue };
}
