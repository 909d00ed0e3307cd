/**
 * The payload AWS IoT sends to a rule's errorAction (AWS IoT developer guide, "Error
 * handling (error action)"): one message per rule per incoming message, listing every failed
 * action. base64OriginalPayload is the original MQTT payload, not the SQL output.
 */
import type { RuleAction } from './payload';

export type FailedActionName = 'LambdaAction' | 'RepublishAction' | 'SqsAction';

export interface ActionFailure {
  readonly failedAction: FailedActionName;
  readonly failedResource: string;
  readonly errorMessage: string;
}

export interface ErrorActionPayload {
  readonly ruleName: string;
  readonly topic: string;
  readonly cloudwatchTraceId: string;
  readonly clientId: string;
  readonly base64OriginalPayload: string;
  readonly failures: readonly ActionFailure[];
}

export const FAILED_ACTION_NAMES: Record<RuleAction['type'], FailedActionName> = {
  lambda: 'LambdaAction',
  republish: 'RepublishAction',
  sqs: 'SqsAction',
};

export function errorActionPayload(input: {
  ruleName: string;
  topic: string;
  traceId: string;
  clientId: string | undefined;
  originalPayload: Buffer;
  failures: readonly ActionFailure[];
}): ErrorActionPayload {
  return {
    ruleName: input.ruleName,
    topic: input.topic,
    cloudwatchTraceId: input.traceId,
    clientId: input.clientId ?? 'n/a',
    base64OriginalPayload: input.originalPayload.toString('base64'),
    failures: input.failures,
  };
}
