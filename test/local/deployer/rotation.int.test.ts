/**
 * Certificate rotation in the local cloud (defect 6): a redeploy with a new CSR replaces the
 * certificate and its attachments; with UpdateReplacePolicy Retain (as lib/device-fleet.ts
 * sets) the old certificate stays ACTIVE and attached to its thing and policy, as
 * CloudFormation leaves a retained resource. Without it, the old certificate is retired.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyAndCsr } from '../../../contracts/pki';
import { type LocalCloud, startLocalCloud } from '../../../local/cloud';
import { silentLogger } from '../../../local/common';
import type { CfnTemplate } from '../../../local/deployer/assembly';
import { deployStacks } from '../../../local/deployer/deployer';
import { localProviders } from '../../../local/deployer/providers/providers';

let dir: string;
let cloud: LocalCloud;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rotation-'));
  cloud = await startLocalCloud({
    stateDir: join(dir, 'state'),
    mqttPort: 0,
    apiPort: 0,
    logger: silentLogger,
  });
});

afterAll(async () => {
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

function template(csr: string, retain: boolean): CfnTemplate {
  const policy = retain ? { UpdateReplacePolicy: 'Retain' } : {};
  const arn = { 'Fn::GetAtt': ['Cert', 'Arn'] };
  return {
    Resources: {
      Thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'dev-1' } },
      Policy: {
        Type: 'AWS::IoT::Policy',
        Properties: {
          PolicyName: 'dev-policy',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }],
          },
        },
      },
      Cert: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateSigningRequest: csr, Status: 'ACTIVE' },
        ...policy,
      },
      ThingAttachment: {
        Type: 'AWS::IoT::ThingPrincipalAttachment',
        Properties: { ThingName: 'dev-1', Principal: arn },
        DependsOn: 'Thing',
        ...policy,
      },
      PolicyAttachment: {
        Type: 'AWS::IoT::PolicyPrincipalAttachment',
        Properties: { PolicyName: 'dev-policy', Principal: arn },
        DependsOn: 'Policy',
        ...policy,
      },
    },
    Outputs: { CertArn: { Value: arn } },
  };
}

async function deploy(stackName: string, t: CfnTemplate): Promise<string> {
  const { providers, fallback } = localProviders({
    identity: cloud.identity,
    logger: silentLogger,
    iot: cloud.iot.registry,
    rules: cloud.rules,
    sqs: cloud.sqs,
    lambda: cloud.lambda,
    timestream: cloud.timestream,
    secrets: cloud.secrets,
    influxdb: cloud.influxdb,
    provisioning: cloud.provisioning.templates,
    assemblyDir: dir,
  });
  const result = await deployStacks([{ stackName, templateFile: 't.json', template: t, assets: new Map() }], {
    stateDir: join(dir, 'deploy'),
    identity: cloud.identity,
    logger: silentLogger,
    providers,
    fallback,
  });
  return String(result.outputs[stackName]!.CertArn);
}

function state(arn: string) {
  const registry = cloud.iot.registry;
  const id = arn.slice(arn.lastIndexOf('/') + 1);
  return {
    status: registry.certificateById(id)?.status,
    things: registry.thingsOfPrincipal(arn).map((a) => a.thing.thingName),
    policies: registry.policiesOfPrincipal(arn).map((p) => p.policyName),
  };
}

describe('certificate rotation in the local cloud', () => {
  it('keeps the replaced certificate ACTIVE and attached when UpdateReplacePolicy is Retain', async () => {
    const oldArn = await deploy('Rot-Retain', template((await generateKeyAndCsr('dev-1')).csrPem, true));
    const newArn = await deploy('Rot-Retain', template((await generateKeyAndCsr('dev-1')).csrPem, true));
    expect(newArn).not.toBe(oldArn);
    expect(state(newArn)).toEqual({ status: 'ACTIVE', things: ['dev-1'], policies: ['dev-policy'] });
    expect(state(oldArn)).toEqual({ status: 'ACTIVE', things: ['dev-1'], policies: ['dev-policy'] });
  });

  it('retires the replaced certificate without it, as CloudFormation deletes it', async () => {
    const oldArn = await deploy('Rot-Default', template((await generateKeyAndCsr('dev-1')).csrPem, false));
    const newArn = await deploy('Rot-Default', template((await generateKeyAndCsr('dev-1')).csrPem, false));
    expect(state(newArn).status).toBe('ACTIVE');
    expect(state(oldArn)).toMatchObject({ status: 'INACTIVE', things: [], policies: [] });
  });
});
