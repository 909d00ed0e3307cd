import { Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for IoT resource patterns granted to a
 * role, each with the reason it is a pattern: resources that scale with the fleet are scoped
 * by a building's name prefix, never listed one by one. Call after the statements are added
 * (the finding sits on the role's default policy).
 */
export function acknowledgeIotPatterns(role: iam.Role, resources: readonly string[], reason: string): void {
  const policy = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
  if (!policy) throw new Error(`${role.node.path}: no default policy to acknowledge patterns on`);
  for (const resource of resources) {
    const arn =
      resource === '*' ? '*' : `arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:${resource}`;
    Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${arn}]`, reason });
  }
}
