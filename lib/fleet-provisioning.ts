import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import {
  type BuildingConfig,
  claimPolicyDocument,
  claimPolicyName,
  MAX_IOT_POLICY_CHARACTERS,
  MAX_TEMPLATE_BODY_CHARS,
  PRE_PROVISIONING_PAYLOAD_VERSION,
  provisioningTemplateBody,
  provisioningTemplateName,
  TEMPLATE_NAME_PATTERN,
  thingNamePrefix,
} from '../contracts';
import { iotArn } from './device-policy';
import type { ProvisioningHook } from './provisioning-hook';
import { acknowledgeIotPatterns } from './wildcard-acknowledgement';

export interface FleetProvisioningProps {
  readonly config: BuildingConfig;
  /** The device policy the template attaches to each new certificate. */
  readonly devicePolicy: iot.CfnPolicy;
  readonly devicePolicyName: string;
  readonly hook: ProvisioningHook;
}

/**
 * Fleet provisioning by claim for one building (AWS IoT Developer Guide, "Provisioning devices
 * that don't have device certificates using fleet provisioning"): an
 * AWS::IoT::ProvisioningTemplate (contracts `provisioningTemplateBody`) with the building's
 * pre-provisioning hook, the role AWS IoT assumes to carry the template out, and the claim
 * policy that claim certificates get (contracts `claimPolicyDocument`). Nothing here grows with
 * the number of devices.
 *
 * - The template is enabled explicitly and named explicitly (AWS::IoT::ProvisioningTemplate:
 *   a generated name may break IoT's 36-character rule); its body is checked against IoT's
 *   10,240 characters. The body is a plain JSON string: no Fn::Sub, whose `${...}` would
 *   collide with template syntax.
 * - The provisioning role is trusted by iot.amazonaws.com for this account's IoT resources
 *   only ("Cross-service confused deputy prevention") and may do what the template's three
 *   resources need: create, describe and update this building's things (`thing/<id>-*`),
 *   describe and activate certificates, attach a certificate to a thing and the device policy
 *   to a certificate.
 *
 * LIMITATIONS: AWS documents no minimal permission set for a provisioning role; the one here
 * is the part of the managed AWSIoTThingsRegistration policy the template's resources use.
 * Attach calls are granted on `*` because the Service Authorization Reference gives them no
 * resource type to scope by. If CloudTrail shows a call denied to the role, add that action.
 */
export class FleetProvisioning extends Construct {
  public readonly template: iot.CfnProvisioningTemplate;
  public readonly templateName: string;
  public readonly role: iam.Role;
  public readonly claimPolicy: iot.CfnPolicy;
  public readonly claimPolicyName: string;
  /** The template body as deployed. */
  public readonly templateBody: string;

  constructor(scope: Construct, id: string, props: FleetProvisioningProps) {
    super(scope, id);
    const { config } = props;
    const building = config.buildingId;
    this.templateName = provisioningTemplateName(building);
    if (!TEMPLATE_NAME_PATTERN.test(this.templateName)) {
      throw new Error(
        `${this.node.path}: the template name '${this.templateName}' breaks AWS IoT's rule (1-36 of [0-9A-Za-z_-]); use a shorter building id`,
      );
    }
    this.templateBody = JSON.stringify(provisioningTemplateBody(config));
    if (this.templateBody.length > MAX_TEMPLATE_BODY_CHARS) {
      throw new Error(
        `${this.node.path}: the provisioning template body has ${this.templateBody.length} characters; AWS IoT accepts at most ${MAX_TEMPLATE_BODY_CHARS}`,
      );
    }

    this.role = new iam.Role(this, 'ProvisioningRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:iot:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` },
        },
      }),
      description: `Lets AWS IoT register ${building}'s devices through its provisioning template`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ThingsOfThisBuilding',
        actions: ['iot:CreateThing', 'iot:DescribeThing', 'iot:UpdateThing'],
        resources: [iotArn(`thing/${thingNamePrefix(building)}*`)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ActivateCertificates',
        actions: ['iot:DescribeCertificate', 'iot:UpdateCertificate'],
        resources: [iotArn('cert/*')],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDevicePolicy',
        actions: ['iot:GetPolicy'],
        resources: [iotArn(`policy/${props.devicePolicyName}`)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AttachThingAndPolicy',
        actions: [
          'iot:AttachThingPrincipal',
          'iot:ListThingPrincipals',
          'iot:AttachPolicy',
          'iot:ListAttachedPolicies',
        ],
        resources: ['*'],
      }),
    );
    acknowledgeIotPatterns(
      this.role,
      [`thing/${thingNamePrefix(building)}*`, 'cert/*', '*'],
      "This building's things by their name prefix; certificates are made by devices at provisioning time, so their ids cannot be listed in advance; AttachThingPrincipal, AttachPolicy and their list calls have no resource type to scope by",
    );

    this.claimPolicyName = claimPolicyName(building);
    const claimDocument = claimPolicyDocument(building, iotArn);
    const claimSize = JSON.stringify(
      claimPolicyDocument(building, (r) => `arn:aws-us-gov:iot:ap-southeast-4:123456789012:${r}`),
    ).replace(/\s/g, '').length;
    if (claimSize > MAX_IOT_POLICY_CHARACTERS) {
      throw new Error(
        `${this.node.path}: the claim policy is ${claimSize} characters; AWS IoT accepts at most ${MAX_IOT_POLICY_CHARACTERS}`,
      );
    }
    this.claimPolicy = new iot.CfnPolicy(this, 'ClaimPolicy', {
      policyName: this.claimPolicyName,
      policyDocument: claimDocument,
    });

    this.template = new iot.CfnProvisioningTemplate(this, 'Template', {
      templateName: this.templateName,
      description: `Fleet provisioning of ${config.name} (${building}): devices of the inventory register themselves with a claim`,
      templateType: 'FLEET_PROVISIONING',
      enabled: true,
      provisioningRoleArn: this.role.roleArn,
      templateBody: this.templateBody,
      preProvisioningHook: {
        targetArn: props.hook.handler.function.functionArn,
        payloadVersion: PRE_PROVISIONING_PAYLOAD_VERSION,
      },
    });
    // The template attaches the device policy by name and IoT calls the hook on first use.
    this.template.addResourceDependency(props.devicePolicy);
    this.template.node.addDependency(props.hook);
    this.template.node.addDependency(this.role);
  }
}
