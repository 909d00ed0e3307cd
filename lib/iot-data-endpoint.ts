import { Stack, Validations } from 'aws-cdk-lib';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** Construct id aws-cdk-lib gives the singleton provider function of AwsCustomResource. */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

/**
 * The account's own AWS IoT data endpoint (`<prefix>-ats.iot.<region>.amazonaws.com`), looked
 * up at deploy time.
 *
 * AWS IoT documents the shared `data-ats.iot.<region>.amazonaws.com` host for testing only and
 * says to use the account-specific endpoint that DescribeEndpoint returns with
 * `endpointType: iot:Data-ATS` (AWS IoT Developer Guide, "Connecting to AWS IoT Core", "AWS IoT
 * device data and service endpoints"). CloudFormation has no attribute that returns it, so a
 * CDK AwsCustomResource calls `iot:DescribeEndpoint` on create and update (aws-cdk-lib
 * custom-resources; the first call for an account creates the endpoint, later calls return
 * the same address).
 *
 * LIMITATIONS: `iot:DescribeEndpoint` supports no resource-level permissions, so the custom
 * resource's policy names resource "*"; the CDK's provider function runs the AWS managed
 * AWSLambdaBasicExecutionRole. Both are acknowledged on this construct only.
 */
export class IotDataEndpoint extends Construct {
  /** The endpoint host name, without scheme or port. */
  public readonly address: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const lookup = new AwsCustomResource(this, 'Lookup', {
      onUpdate: {
        service: 'Iot',
        action: 'describeEndpoint',
        parameters: { endpointType: 'iot:Data-ATS' },
        physicalResourceId: PhysicalResourceId.of('iot-data-ats-endpoint'),
      },
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
    this.address = lookup.getResponseField('endpointAddress');
    const policy = lookup.node.findChild('CustomResourcePolicy').node.defaultChild!;
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'iot:DescribeEndpoint supports no resource-level permissions (Service Authorization Reference, AWS IoT: resource "*" only); the policy holds that one action',
    });
    // The CDK's provider function for every AwsCustomResource of the stack (a singleton).
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    const role = provider?.node.tryFindChild('ServiceRole')?.node.defaultChild;
    if (role) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "The CDK's AwsCustomResource provider function runs for a moment at deploy time and may only write its own logs; the AWS managed basic execution role gives exactly that",
      });
    }
  }
}
