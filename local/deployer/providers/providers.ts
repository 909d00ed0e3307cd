/**
 * How each CloudFormation resource type of the pipeline becomes a resource of the local
 * services. Each provider follows the resource's CloudFormation reference page for what
 * `Ref` and `Fn::GetAtt` return. Types with no local effect (IAM, CloudWatch, SNS, Logs, ...)
 * are accepted with AWS-shaped identifiers and reported as "not emulated".
 *
 * LIMITATIONS versus AWS: IAM roles and policies, Lambda resource policies, CloudWatch alarms
 * and dashboards, SNS, log groups and custom resources have no local effect. A changed IoT
 * policy replaces the stored document (AWS would create a new policy version).
 */

import type { ResourceProvider } from '../types';
import { customAwsProviders } from './custom-aws';
import { iotProviders } from './iot';
import { lambdaProviders } from './lambda';
import { notEmulatedProviders } from './not-emulated';
import { provisioningProviders } from './provisioning';
import type { LocalServices } from './shared';
import { sqsProviders } from './sqs';
import { timestreamProviders } from './timestream';

/** The provider of each resource type the local cloud runs, and the fallback for the rest. */
export function localProviders(s: LocalServices): {
  providers: Record<string, ResourceProvider>;
  fallback: ResourceProvider;
} {
  const notEmulated = notEmulatedProviders(s);
  return {
    providers: {
      ...iotProviders(s),
      ...sqsProviders(s),
      ...lambdaProviders(s),
      ...timestreamProviders(s),
      ...provisioningProviders(s),
      ...customAwsProviders(s),
      ...notEmulated.providers,
    },
    fallback: notEmulated.fallback,
  };
}
