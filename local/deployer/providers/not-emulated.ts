/**
 * Resource types with no local effect: accepted with AWS-shaped identifiers (what `Ref` and
 * `Fn::GetAtt` return for them) and reported as "not emulated" with the reason: IAM roles and
 * policies, Lambda permissions, CloudWatch alarms and dashboards, SNS, log groups, queue
 * policies, custom resources and CDK metadata.
 */
import { arn } from '../../common';
import type { ApplyRequest, ApplyResult, ResourceProvider } from '../types';
import { hashText, type LocalServices, str } from './shared';

export function notEmulatedProviders(s: LocalServices): {
  providers: Record<string, ResourceProvider>;
  fallback: ResourceProvider;
} {
  const { identity } = s;
  const role: ResourceProvider = {
    async apply(req) {
      const name = str(req.properties.RoleName) ?? req.physicalName(64);
      return {
        ref: name,
        attributes: {
          Arn: `arn:aws:iam::${identity.accountId}:role/${name}`,
          RoleId: `AROA${hashText(name).slice(0, 17)}`,
        },
        emulated: false,
        note: 'IAM is not enforced locally',
      };
    },
  };

  const fallback: ResourceProvider = {
    async apply(req: ApplyRequest): Promise<ApplyResult> {
      const name = req.physicalName(64);
      const service = req.type.split('::')[1]?.toLowerCase() ?? 'unknown';
      const resourceArn = arn(identity, service, name);
      return {
        ref: req.type === 'AWS::SNS::Topic' ? resourceArn : name,
        attributes: { Arn: resourceArn, TopicArn: resourceArn, TopicName: name, Name: name },
        emulated: false,
        note: notEmulatedReason(req.type),
      };
    },
  };

  return { providers: { 'AWS::IAM::Role': role }, fallback };
}

function notEmulatedReason(type: string): string {
  if (type.startsWith('AWS::IAM::')) return 'IAM is not enforced locally';
  if (type === 'AWS::Lambda::Permission') return 'resource policies are not enforced locally';
  if (type.startsWith('AWS::CloudWatch::')) return 'no CloudWatch locally';
  if (type.startsWith('AWS::Logs::')) return 'function logs go to the local cloud console';
  if (type.startsWith('AWS::SNS::')) return 'no SNS locally (alarm notifications only)';
  if (type.startsWith('AWS::SQS::QueuePolicy')) return 'queue policies are not enforced locally';
  if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource')
    return 'custom resources do not run locally';
  if (type === 'AWS::CDK::Metadata') return 'CDK metadata';
  return 'no local stand-in for this type';
}
