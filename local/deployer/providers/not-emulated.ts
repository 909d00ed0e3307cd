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
      if (req.type.startsWith('AWS::EC2::')) return networking(req, name);
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

/**
 * VPCs, subnets, security groups, endpoints and their routes have no local effect; each gets
 * an id of AWS's shape so templates can `Ref` and `Fn::GetAtt` them (AWS CloudFormation
 * Template Reference, the return values of AWS::EC2::VPC, Subnet, SecurityGroup, VPCEndpoint).
 */
function networking(req: ApplyRequest, name: string): ApplyResult {
  const id = (prefix: string) => `${prefix}-${hashText(name).slice(0, 17)}`;
  const prefixes: Record<string, string> = {
    'AWS::EC2::VPC': 'vpc',
    'AWS::EC2::Subnet': 'subnet',
    'AWS::EC2::SecurityGroup': 'sg',
    'AWS::EC2::VPCEndpoint': 'vpce',
    'AWS::EC2::RouteTable': 'rtb',
    'AWS::EC2::FlowLog': 'fl',
  };
  const ref = id(prefixes[req.type] ?? 'ec2');
  const vpcId = str(req.properties.VpcId) ?? ref;
  return {
    ref,
    attributes: {
      Id: ref,
      GroupId: ref,
      VpcId: vpcId,
      SubnetId: ref,
      RouteTableId: ref,
      CidrBlock: str(req.properties.CidrBlock) ?? '10.0.0.0/16',
      CidrBlockAssociations: [],
      Ipv6CidrBlocks: [],
      DefaultSecurityGroup: id('sg'),
      DefaultNetworkAcl: id('acl'),
      AvailabilityZone: str(req.properties.AvailabilityZone) ?? `${identityRegion(req)}a`,
      DnsEntries: [],
      NetworkInterfaceIds: [],
      CreationTimestamp: new Date(0).toISOString(),
    },
    emulated: false,
    note: 'networking is not emulated locally',
  };
}

function identityRegion(req: ApplyRequest): string {
  return /^arn:aws:[^:]*:([^:]+):/.exec(str(req.properties.ServiceName) ?? '')?.[1] ?? 'us-east-1';
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
