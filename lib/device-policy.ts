import { Aws, Fn } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import {
  devicePolicyDocument,
  devicePolicyName,
  devicePolicySize,
  ID_PATTERN,
  type IotPolicyDocument,
  MAX_IOT_POLICY_CHARACTERS,
} from '../contracts';

export interface DevicePolicyProps {
  /** Building id; the policy is named `zonectl-<buildingId>-device`. */
  readonly buildingId: string;
}

/**
 * The one IoT policy every device certificate gets: the document contracts/device-policy.ts
 * builds (least privilege per device through policy variables), as an AWS::IoT::Policy.
 *
 * ARNs are built with Fn::Join, never Fn::Sub: CloudFormation would try to resolve the
 * `${iot:...}` policy variables inside an Fn::Sub string.
 */
export class DevicePolicy extends Construct {
  public readonly policy: iot.CfnPolicy;
  public readonly policyName: string;
  /** The policy document as it goes into the template (with CloudFormation tokens). */
  public readonly policyDocument: IotPolicyDocument;

  constructor(scope: Construct, id: string, props: DevicePolicyProps) {
    super(scope, id);
    if (!ID_PATTERN.test(props.buildingId)) {
      throw new Error(
        `${this.node.path}: buildingId '${props.buildingId}' is not a building id; use lower-case letters, digits and '-' (1-32)`,
      );
    }
    this.policyName = devicePolicyName(props.buildingId);
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
