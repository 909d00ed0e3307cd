import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BuildingConfig,
  claimPolicyDocument,
  devicePolicySize,
  devicesOf,
  ENV,
  MAX_IOT_POLICY_CHARACTERS,
  MAX_TEMPLATE_BODY_CHARS,
  PROVISIONING_INVENTORY_FILE,
  parseBuildingConfig,
  parseProvisioningInventory,
  provisioningTemplateBody,
  STACK_OUTPUT,
} from '../../contracts';
import { generateKeyAndCsr } from '../../contracts/pki';
import type { BuildingStack } from '../../lib/building-stack';
import { CLOUDFORMATION_LIMITS } from '../../lib/building-stack';
import { iotArn as stackIotArn } from '../../lib/device-policy';
import { assetDirOf, iotArnJson, loadFixture, synthBuilding } from './helpers';

/**
 * Fleet provisioning in the template: a building of 2,000 devices synthesizes inside every
 * CloudFormation, IAM and IoT limit, with exactly the resources of a building of 10.
 */

/** A fleet building of `devices` devices, 50 to a zone, 5 zones to a floor. */
function fleetBuilding(devices: number, buildingId = 'tower'): BuildingConfig {
  const base = loadFixture();
  const zones = Array.from({ length: Math.ceil(devices / 50) }, (_, z) => ({
    id: `z${z}`,
    name: `Zone ${z}`,
    floor: String(Math.floor(z / 5)),
    devices: Array.from({ length: Math.min(50, devices - z * 50) }, (_, d) => ({
      thing: `${buildingId}-z${z}-device-with-a-long-name-${String(d).padStart(3, '0')}`,
      ...(d % 2 === 0 ? { senses: ['temperature', 'co2'] } : { drives: ['heating', 'ventilation'] }),
    })),
  }));
  return parseBuildingConfig({
    buildingId,
    name: 'Tower',
    comfort: base.comfort,
    provisioning: 'fleet',
    zones,
  });
}

/** Characters of a policy document as IAM and IoT count them: without whitespace. */
const charsOf = (document: unknown) => JSON.stringify(document).replace(/\s/g, '').length;

const IAM_INLINE_POLICY_CHARS = 10_240;

describe('a fleet-provisioned building of 2,000 devices', () => {
  let template: Template;
  let stack: BuildingStack;
  let json: Record<string, Record<string, Record<string, unknown>>>;
  let small: Template;
  beforeAll(() => {
    ({ template, stack } = synthBuilding(fleetBuilding(2000)));
    json = template.toJSON() as typeof json;
    small = synthBuilding(fleetBuilding(10)).template;
  });

  it('has no resource and no output per device: the same resources as a building of 10', () => {
    const count = (t: Template) => Object.keys(t.toJSON().Resources as object).length;
    const outputs = (t: Template) => Object.keys(t.toJSON().Outputs as object).length;
    expect(count(template)).toBe(count(small));
    expect(outputs(template)).toBe(outputs(small));
    template.resourceCountIs('AWS::IoT::Thing', 0);
    template.resourceCountIs('AWS::IoT::Certificate', 0);
  });

  it('stays inside the CloudFormation limits on resources, outputs and template size', () => {
    expect(Object.keys(json.Resources!).length).toBeLessThan(CLOUDFORMATION_LIMITS.resources / 5);
    expect(Object.keys(json.Outputs!).length).toBeLessThan(CLOUDFORMATION_LIMITS.outputs / 10);
    // CreateStack takes a body of 51,200 bytes inline (more only through S3).
    expect(Buffer.byteLength(JSON.stringify(json))).toBeLessThan(51_200);
  });

  it('keeps every role inline policy under IAM 10,240 characters', () => {
    const policies = Object.values(json.Resources!).filter((r) => r.Type === 'AWS::IAM::Policy');
    expect(policies.length).toBeGreaterThan(0);
    for (const policy of policies) {
      const document = (policy.Properties as { PolicyDocument: unknown }).PolicyDocument;
      expect(charsOf(document)).toBeLessThan(IAM_INLINE_POLICY_CHARS);
    }
  });

  it('keeps the device and claim policies under AWS IoT 2,048 characters in the longest region', () => {
    expect(devicePolicySize()).toBeLessThanOrEqual(MAX_IOT_POLICY_CHARACTERS);
    const longest = claimPolicyDocument(
      'a-building-id-of-28-chars-xy',
      (r) => `arn:aws-us-gov:iot:ap-southeast-4:123456789012:${r}`,
    );
    expect(charsOf(longest)).toBeLessThanOrEqual(MAX_IOT_POLICY_CHARACTERS);
  });

  it('ships the whole inventory to the hook in its asset, not in its environment', () => {
    const dir = assetDirOf(stack, stack.provisioningHook!.handler.function);
    const text = readFileSync(join(dir, PROVISIONING_INVENTORY_FILE), 'utf8');
    const inventory = parseProvisioningInventory(text);
    expect(Object.keys(inventory.devices)).toHaveLength(2000);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 5,
      Environment: { Variables: Match.objectLike({ [ENV.configFile]: PROVISIONING_INVENTORY_FILE }) },
    });
    for (const fnResource of Object.values(json.Resources!).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    )) {
      const variables = (fnResource.Properties as { Environment?: { Variables?: object } }).Environment
        ?.Variables;
      expect(Buffer.byteLength(JSON.stringify(variables ?? {}))).toBeLessThan(4096);
    }
  });
});

describe('fleet provisioning resources', () => {
  const config = fleetBuilding(20, 'site-b');
  let template: Template;
  let stack: BuildingStack;
  beforeAll(() => {
    ({ template, stack } = synthBuilding(config));
  });

  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(c.node.defaultChild as never);

  it('creates an enabled fleet template with the contract body and the hook', () => {
    template.hasResourceProperties('AWS::IoT::ProvisioningTemplate', {
      TemplateName: 'zonectl-site-b',
      TemplateType: 'FLEET_PROVISIONING',
      Enabled: true,
      TemplateBody: JSON.stringify(provisioningTemplateBody(config)),
      ProvisioningRoleArn: { 'Fn::GetAtt': [logicalId(stack.fleet!.role), 'Arn'] },
      PreProvisioningHook: {
        PayloadVersion: '2020-04-01',
        TargetArn: { 'Fn::GetAtt': [logicalId(stack.provisioningHook!.handler.function), 'Arn'] },
      },
    });
    expect(JSON.stringify(provisioningTemplateBody(config)).length).toBeLessThan(MAX_TEMPLATE_BODY_CHARS);
  });

  it('attaches the device policy by name and sets the certificate from the request ACTIVE', () => {
    const body = provisioningTemplateBody(config) as { Resources: Record<string, { Properties: object }> };
    expect(body.Resources.policy?.Properties).toEqual({ PolicyName: 'zonectl-site-b-device' });
    expect(body.Resources.certificate?.Properties).toEqual({
      CertificateId: { Ref: 'AWS::IoT::Certificate::Id' },
      Status: 'ACTIVE',
    });
  });

  it('deploys the claim policy of the contract', () => {
    template.hasResourceProperties('AWS::IoT::Policy', {
      PolicyName: 'zonectl-site-b-claim',
      PolicyDocument: stack.resolve(claimPolicyDocument('site-b', stackIotArn)),
    });
  });

  it('lets only this account invoke the hook, from iot.amazonaws.com', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'iot.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      FunctionName: { 'Fn::GetAtt': [logicalId(stack.provisioningHook!.handler.function), 'Arn'] },
    });
  });

  it('trusts iot.amazonaws.com with the provisioning role for this account only, scoped to the building things', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ],
      },
    });
    const roleId = logicalId(stack.fleet!.role);
    const policy = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
    )[0]!;
    const statements = policy.Properties.PolicyDocument.Statement as Array<{
      Sid: string;
      Resource: unknown;
    }>;
    expect(statements.find((s) => s.Sid === 'ThingsOfThisBuilding')?.Resource).toEqual(
      iotArnJson('thing/site-b-*'),
    );
  });

  it('outputs the template and claim policy names and no certificate ids', () => {
    template.hasOutput(STACK_OUTPUT.provisioningTemplateName, { Value: 'zonectl-site-b' });
    template.hasOutput(STACK_OUTPUT.claimPolicyName, { Value: 'zonectl-site-b-claim' });
    expect(Object.keys(template.toJSON().Outputs as object).filter((k) => k.startsWith('Cert'))).toEqual([]);
  });

  it('refuses CSRs from onboarding for a fleet building, naming the fix', async () => {
    const thing = devicesOf(config)[0]!.thing;
    const csr = (await generateKeyAndCsr(thing)).csrPem;
    expect(() => synthBuilding(config, { [thing]: csr })).toThrow(/fleet-provisioned.*remove them/);
  });
});

describe('stack provisioning past one stack', () => {
  it('fails synth with 97 onboarded devices, naming fleet provisioning as the fix', async () => {
    const config = { ...fleetBuilding(97, 'big'), provisioning: 'stack' as const };
    const { csrPem } = await generateKeyAndCsr('any');
    const csrs = Object.fromEntries(devicesOf(config).map((d) => [d.thing, csrPem]));
    expect(() => synthBuilding(config, csrs)).toThrow(
      /outputs \(CloudFormation allows 200\).*"provisioning": "fleet"/,
    );
  });
});
