/**
 * The device policy the CDK stack deploys (lib/device-policy.ts), with local ARNs: a thing connects only as itself, publishes only its
 * own readings (topic built from thing attributes and name), and uses only its own command
 * shadow. Built from contracts so the resources match the deployed policy.
 */
import {
  COMMAND_SHADOW_NAME,
  COMMAND_SHADOW_REQUESTS,
  COMMAND_SHADOW_RESPONSE_PATTERNS,
  shadowTopicPrefix,
  TELEMETRY_TOPIC_POLICY_TEMPLATE,
  THING_NAME_VARIABLE,
} from '../../contracts';
import { type CloudIdentity, DEFAULT_IDENTITY, iotArn } from '../../local/common/account';
import type { PolicyDocument } from '../../local/iot/types';

export function devicePolicy(identity: CloudIdentity = DEFAULT_IDENTITY): PolicyDocument {
  const shadow = shadowTopicPrefix(THING_NAME_VARIABLE, COMMAND_SHADOW_NAME);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: iotArn(identity, 'client', THING_NAME_VARIABLE),
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      {
        Effect: 'Allow',
        Action: 'iot:Publish',
        Resource: [
          iotArn(identity, 'topic', TELEMETRY_TOPIC_POLICY_TEMPLATE),
          ...COMMAND_SHADOW_REQUESTS.map((op) => iotArn(identity, 'topic', `${shadow}/${op}`)),
        ],
      },
      {
        Effect: 'Allow',
        Action: 'iot:Subscribe',
        Resource: COMMAND_SHADOW_RESPONSE_PATTERNS.map((r) =>
          iotArn(identity, 'topicfilter', `${shadow}/${r}`),
        ),
      },
      {
        Effect: 'Allow',
        Action: 'iot:Receive',
        Resource: COMMAND_SHADOW_RESPONSE_PATTERNS.map((r) => iotArn(identity, 'topic', `${shadow}/${r}`)),
      },
    ],
  };
}

/** A broad policy for an operator application in tests: everything, everywhere. */
export const allowAllPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
};
