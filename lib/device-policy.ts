import { Aws, Fn } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import {
  COMMAND_SHADOW_NAME,
  ID_PATTERN,
  shadowTopicPrefix,
  TELEMETRY_TOPIC_POLICY_TEMPLATE,
} from '../contracts';

/** IoT policy variable for the thing name of the connected client (IoT Developer Guide, "Thing policy variables"). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IoT policy variable, literal on purpose
export const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';

/** The command shadow's MQTT topics a device publishes to (requests) ... */
export const COMMAND_SHADOW_REQUESTS = ['get', 'update'] as const;
/** ... and those it subscribes to and receives (the Device Shadow service's responses). */
export const COMMAND_SHADOW_RESPONSES = [
  'get/accepted',
  'get/rejected',
  'update/accepted',
  'update/rejected',
  'update/delta',
  'update/documents',
] as const;

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
    const shadow = shadowTopicPrefix(THING_NAME_VARIABLE, COMMAND_SHADOW_NAME);
    this.policyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ConnectAsOwnThing',
          Effect: 'Allow',
          Action: 'iot:Connect',
          Resource: iotArn(`client/${THING_NAME_VARIABLE}`),
          Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
        },
        {
          Sid: 'PublishOwnTelemetryAndShadowRequests',
          Effect: 'Allow',
          Action: 'iot:Publish',
          Resource: [
            iotArn(`topic/${TELEMETRY_TOPIC_POLICY_TEMPLATE}`),
            ...COMMAND_SHADOW_REQUESTS.map((op) => iotArn(`topic/${shadow}/${op}`)),
          ],
        },
        {
          Sid: 'SubscribeOwnShadowResponses',
          Effect: 'Allow',
          Action: 'iot:Subscribe',
          Resource: COMMAND_SHADOW_RESPONSES.map((r) => iotArn(`topicfilter/${shadow}/${r}`)),
        },
        {
          Sid: 'ReceiveOwnShadowResponses',
          Effect: 'Allow',
          Action: 'iot:Receive',
          Resource: COMMAND_SHADOW_RESPONSES.map((r) => iotArn(`topic/${shadow}/${r}`)),
        },
      ],
    };
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
