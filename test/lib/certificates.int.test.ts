import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateOutputKey, devicesOf } from '../../contracts';
import { generateKeyAndCsr } from '../../contracts/pki';
import { certificateArnOutputKey } from '../../lib/device-fleet';
import { loadFixture, synthBuilding } from './helpers';

const config = loadFixture();
const [onboarded, notOnboarded] = devicesOf(config).map((d) => d.thing);

describe('device certificates from CSRs', () => {
  let template: Template;
  let csr: string;
  beforeAll(async () => {
    csr = (await generateKeyAndCsr(onboarded!)).csrPem;
    template = synthBuilding(config, { [onboarded!]: csr }).template;
  });

  it('creates an ACTIVE certificate from the CSR of an onboarded thing', () => {
    template.resourceCountIs('AWS::IoT::Certificate', 1);
    template.hasResourceProperties('AWS::IoT::Certificate', {
      CertificateSigningRequest: csr,
      Status: 'ACTIVE',
    });
  });

  it('attaches the certificate to its thing', () => {
    template.resourceCountIs('AWS::IoT::ThingPrincipalAttachment', 1);
    template.hasResourceProperties('AWS::IoT::ThingPrincipalAttachment', {
      ThingName: onboarded,
      Principal: { 'Fn::GetAtt': [Match.stringLikeRegexp('Certificate'), 'Arn'] },
    });
  });

  it('attaches the device policy to the certificate', () => {
    template.resourceCountIs('AWS::IoT::PolicyPrincipalAttachment', 1);
    template.hasResourceProperties('AWS::IoT::PolicyPrincipalAttachment', {
      PolicyName: `zonectl-${config.buildingId}-device`,
      Principal: { 'Fn::GetAtt': [Match.stringLikeRegexp('Certificate'), 'Arn'] },
    });
  });

  it('keeps a replaced certificate and its attachments, so rotation does not cut the device off (defect 6)', () => {
    // A new CSR replaces the certificate and both attachments; UpdateReplacePolicy Retain keeps
    // the old ones working until `onboard --retire-previous`, while deleting the stack still
    // deletes them (no DeletionPolicy: CloudFormation's default, Delete).
    for (const type of [
      'AWS::IoT::Certificate',
      'AWS::IoT::ThingPrincipalAttachment',
      'AWS::IoT::PolicyPrincipalAttachment',
    ]) {
      template.hasResource(type, { UpdateReplacePolicy: 'Retain', DeletionPolicy: Match.absent() });
    }
  });

  it('outputs the certificate id and ARN under the contract keys', () => {
    template.hasOutput(certificateOutputKey(onboarded!), {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('Certificate'), 'Id'] },
    });
    template.hasOutput(certificateArnOutputKey(onboarded!), {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('Certificate'), 'Arn'] },
    });
  });

  it('gives a thing without a CSR no certificate and no outputs', () => {
    const outputs = template.findOutputs('*');
    expect(outputs[certificateOutputKey(notOnboarded!)]).toBeUndefined();
    expect(outputs[certificateArnOutputKey(notOnboarded!)]).toBeUndefined();
    template.resourcePropertiesCountIs('AWS::IoT::ThingPrincipalAttachment', { ThingName: notOnboarded }, 0);
  });

  it('still creates the thing of a device without a CSR', () => {
    template.hasResourceProperties('AWS::IoT::Thing', { ThingName: notOnboarded });
  });

  it('fails on a CSR for a thing the building does not have, naming the thing', () => {
    expect(() => synthBuilding(config, { 'no-such-thing': csr })).toThrow(/'no-such-thing'.*not a device/);
  });

  it('fails on a CSR file that is not a certificate request, naming the thing', () => {
    expect(() => synthBuilding(config, { [onboarded!]: 'hello' })).toThrow(
      new RegExp(`CSR of '${onboarded}'.*not a PEM certificate request`),
    );
  });
});
