import { COMMAND_SHADOW_NAME } from './shadow';
import {
  COMMAND_SHADOW_REQUESTS,
  COMMAND_SHADOW_RESPONSE_PATTERNS,
  shadowTopicPrefix,
  TELEMETRY_TOPIC_POLICY_TEMPLATE,
  THING_NAME_VARIABLE,
} from './topics';

/**
 * The one IoT policy document every device certificate gets, as data: the CDK construct
 * (lib/device-policy.ts) deploys it with CloudFormation ARNs, and the local cloud's tests and
 * the bench attach it with local ARNs, so what the local broker enforces is what AWS gets.
 *
 * Policy variables make it least privilege per device (AWS IoT Developer Guide, "Thing policy
 * variables" and "Connect to AWS IoT Core with a thing policy"): a client connects only with its
 * own thing name as client id and only while its certificate is attached to that thing
 * (`iot:Connection.Thing.IsAttached`), publishes only on its own telemetry topic in the building
 * and zone its thing attributes name, and touches only its own command shadow. Resources are
 * `topic/` ARNs for Publish and Receive and `topicfilter/` ARNs for Subscribe (AWS IoT Developer
 * Guide, "AWS IoT Core policy actions").
 */

export interface IotPolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface IotPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly IotPolicyStatement[];
}

/** The device policy's name in a building's stack. */
export const devicePolicyName = (buildingId: string): string => `zonectl-${buildingId}-device`;

/**
 * The device policy document, with each ARN made by `arnOf` from an IoT resource such as
 * `client/<name>` or `topic/<topic>`: CloudFormation tokens in the stack, plain strings locally.
 */
export function devicePolicyDocument(arnOf: (resource: string) => string): IotPolicyDocument {
  const shadow = shadowTopicPrefix(THING_NAME_VARIABLE, COMMAND_SHADOW_NAME);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ConnectAsOwnThing',
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: arnOf(`client/${THING_NAME_VARIABLE}`),
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      {
        Sid: 'PublishOwnTelemetryAndShadowRequests',
        Effect: 'Allow',
        Action: 'iot:Publish',
        Resource: [
          arnOf(`topic/${TELEMETRY_TOPIC_POLICY_TEMPLATE}`),
          ...COMMAND_SHADOW_REQUESTS.map((op) => arnOf(`topic/${shadow}/${op}`)),
        ],
      },
      {
        Sid: 'SubscribeOwnShadowResponses',
        Effect: 'Allow',
        Action: 'iot:Subscribe',
        Resource: COMMAND_SHADOW_RESPONSE_PATTERNS.map((r) => arnOf(`topicfilter/${shadow}/${r}`)),
      },
      {
        Sid: 'ReceiveOwnShadowResponses',
        Effect: 'Allow',
        Action: 'iot:Receive',
        Resource: COMMAND_SHADOW_RESPONSE_PATTERNS.map((r) => arnOf(`topic/${shadow}/${r}`)),
      },
    ],
  };
}

/**
 * Size of the device policy as AWS IoT counts it against MAX_IOT_POLICY_CHARACTERS (no
 * whitespace), with the longest partition and region names an ARN can carry.
 */
export function devicePolicySize(): number {
  const doc = devicePolicyDocument(
    (resource) => `arn:aws-us-gov:iot:ap-southeast-4:123456789012:${resource}`,
  );
  return JSON.stringify(doc).replace(/\s/g, '').length;
}
