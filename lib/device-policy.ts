import { Aws, Fn } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import {
  COMMAND_SHADOW_NAME,
  COMMAND_SHADOW_REQUESTS,
  COMMAND_SHADOW_RESPONSE_PATTERNS,
  ID_PATTERN,
  MAX_IOT_POLICY_CHARACTERS,
  shadowTopicPrefix,
  TELEMETRY_TOPIC_POLICY_TEMPLATE,
  THING_NAME_VARIABLE,
} from '../contracts';

export interface DevicePolicyProps {
  /** Building id; the policy is named `zonectl-<buildingId>-device`. */
  readonly buildingId: string;
}

/**
 * The one IoT policy every device certificate gets. Policy variables make it least privilege
 * per device: a client connects only with its own thing name as client id (and only while its
 * certificate is attached to that thing), publishes only on its own telemetry topic, in the
 * building and zone its thing attributes name, and touches only its own command shadow.
 *
 * ARNs are built with Fn::Join, never Fn::Sub: CloudFormation would try to resolve the
 * `${iot:...}` policy variables inside an Fn::Sub string.
 */
export class DevicePolicy extends Construct {
  public readonly policy: iot.CfnPolicy;
  public readonly policyName: string;
  /** The policy document as it goes into the template (with CloudFormation tokens). */
  public readonly policyDocument: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: DevicePolicyProps) {
    super(scope, id);
    if (!ID_PATTERN.test(props.buildingId)) {
      throw new Error(
        `${this.node.path}: buildingId '${props.buildingId}' is not a building id; use lower-case letters, digits and '-' (1-32)`,
      );
    }
    this.policyName = `zonectl-${props.buildingId}-device`;
    this.policyDocument = devicePolicyDocument(iotArn);
    const size = devicePolicySize();
    if (size > MAX_IOT_POLICY_CHARACTERS) {
      throw new Error(
        `${this.node.path}: the device policy is ${size} characters without whitespace in the longest region; AWS IoT accepts at most ${MAX_IOT_POLICY_CHARACTERS}. Use fewer or shorter resources.`,
      );
    }
    this.policy = new iot.CfnPolicy(this, 'Policy', {
      policyName: this.policyName,
      policyDocument: this.policyDocument,
    });
  }
}

/** `arn:<partition>:iot:<region>:<account>:<resource>` as an Fn::Join, keeping policy variables literal. */
export function iotArn(resource: string): string {
  return Fn.join('', ['arn:', Aws.PARTITION, ':iot:', Aws.REGION, ':', Aws.ACCOUNT_ID, `:${resource}`]);
}

/** The device policy document, with ARNs made by `arnOf` (CloudFormation tokens or plain strings). */
export function devicePolicyDocument(arnOf: (resource: string) => string): Record<string, unknown> {
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

/** Size of the device policy as AWS IoT counts it (no whitespace), with the longest region name. */
export function devicePolicySize(): number {
  const doc = devicePolicyDocument(
    (resource) => `arn:aws-us-gov:iot:ap-southeast-4:123456789012:${resource}`,
  );
  return JSON.stringify(doc).replace(/\s/g, '').length;
}
