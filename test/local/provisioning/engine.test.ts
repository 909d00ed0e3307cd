import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBuildingConfig, provisioningTemplateBody } from '../../../contracts';
import { checkTemplateBody, planProvisioning, TemplateError } from '../../../local/provisioning';

const CERT = 'c'.repeat(64);
const body = (doc: object) => checkTemplateBody(JSON.stringify(doc));
const base = (extra: object = {}, thing: object = { ThingName: { Ref: 'ThingName' } }) => ({
  Parameters: { ThingName: { Type: 'String' }, Floor: { Type: 'String', Default: '1' } },
  Resources: {
    thing: { Type: 'AWS::IoT::Thing', Properties: thing },
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'Active' },
    },
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'p' } },
  },
  ...extra,
});

function errorOf(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error('expected a TemplateError');
}

describe('provisioning template engine', () => {
  it("plans zonectl's own fleet template: thing with attributes, certificate ACTIVE, policy by name, device configuration", () => {
    const config = parseBuildingConfig(JSON.parse(readFileSync('building.json', 'utf8')));
    const plan = planProvisioning(
      body(provisioningTemplateBody(config)),
      { ThingName: 'hq-lobby-hvac', Zone: 'lobby', Kind: 'actuator', Drives: 'heating,ventilation' },
      CERT,
    );
    expect(plan.thing).toEqual({
      thingName: 'hq-lobby-hvac',
      attributes: { building: 'hq', zone: 'lobby', kind: 'actuator' },
      override: 'REPLACE',
    });
    expect(plan.certificate).toEqual({ certificateId: CERT, status: 'ACTIVE' });
    expect(plan.policies).toEqual([{ policyName: 'zonectl-hq-device' }]);
    expect(plan.deviceConfiguration).toMatchObject({
      building: 'hq',
      zone: 'lobby',
      senses: '',
      drives: 'heating,ventilation',
      co2Limit: '900',
    });
  });

  it('uses a Default for a missing parameter and refuses one without, naming it', () => {
    const b = body(base({}, { ThingName: { 'Fn::Join': ['-', [{ Ref: 'ThingName' }, { Ref: 'Floor' }]] } }));
    expect(planProvisioning(b, { ThingName: 't' }, CERT).thing?.thingName).toBe('t-1');
    const e = errorOf(() => planProvisioning(b, {}, CERT));
    expect(e.code).toBe('InvalidParameters');
    expect(e.message).toContain("Parameter 'ThingName' has no value and no Default");
  });

  it('evaluates Fn::Sub, Fn::Split with Fn::Select, Fn::FindInMap, and refuses Fn::Select out of range', () => {
    const b = body(
      base({
        Mappings: { Sites: { north: { Code: 'N1' } } },
        DeviceConfiguration: {
          a: { 'Fn::Sub': 'floor-${Floor}' },
          b: { 'Fn::Select': [1, { 'Fn::Split': [',', 'x,y,z'] }] },
          c: { 'Fn::FindInMap': ['Sites', 'north', 'Code'] },
        },
      }),
    );
    expect(planProvisioning(b, { ThingName: 't' }, CERT).deviceConfiguration).toEqual({
      a: 'floor-1',
      b: 'y',
      c: 'N1',
    });
    const out = body(base({ DeviceConfiguration: { a: { 'Fn::Select': [5, ['x']] } } }));
    expect(errorOf(() => planProvisioning(out, { ThingName: 't' }, CERT)).message).toContain('out of range');
  });

  it('evaluates Conditions with Fn::If and skips a resource whose Condition is false', () => {
    const doc = base({
      Conditions: {
        Ground: { 'Fn::Equals': [{ Ref: 'Floor' }, '0'] },
        Upper: { 'Fn::Not': [{ Condition: 'Ground' }] },
      },
      DeviceConfiguration: { where: { 'Fn::If': ['Ground', 'lobby', 'office'] } },
    });
    (doc.Resources as Record<string, object>).policy = {
      Type: 'AWS::IoT::Policy',
      Condition: 'Ground',
      Properties: { PolicyName: 'p' },
    };
    const upper = planProvisioning(body(doc), { ThingName: 't' }, CERT);
    expect(upper.deviceConfiguration.where).toBe('office');
    expect(upper.policies).toEqual([]);
    const ground = planProvisioning(body(doc), { ThingName: 't', Floor: '0' }, CERT);
    expect(ground.deviceConfiguration.where).toBe('lobby');
    expect(ground.policies).toHaveLength(1);
  });

  it('refuses more than 3 attributes on a thing without a thing type, and attribute values with spaces', () => {
    const four = body(base({}, { ThingName: 't', AttributePayload: { a: '1', b: '2', c: '3', d: '4' } }));
    expect(errorOf(() => planProvisioning(four, {}, CERT)).message).toContain('at most 3');
    const spaced = body(base({}, { ThingName: 't', AttributePayload: { a: 'two words' } }));
    expect(errorOf(() => planProvisioning(spaced, {}, CERT)).message).toContain('no spaces');
  });

  it.each([
    [{ Resources: {} }, 'at least one resource'],
    [{ Foo: {}, Resources: { t: { Type: 'AWS::IoT::Thing' } } }, "Unknown template section 'Foo'"],
    [{ Resources: { t: { Type: 'AWS::S3::Bucket' } } }, 'use one of AWS::IoT::Thing'],
    [
      { Parameters: { N: { Type: 'Number' } }, Resources: { t: { Type: 'AWS::IoT::Thing' } } },
      '"Type": "String"',
    ],
    [
      { Mappings: { m: { k: { v: { Ref: 'X' } } } }, Resources: { t: { Type: 'AWS::IoT::Thing' } } },
      'Mappings cannot contain',
    ],
    [
      { Resources: { t: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { Ref: 'Nope' } } } } },
      "undeclared parameter 'Nope'",
    ],
    [{ Resources: { p: { Type: 'AWS::IoT::Policy', Properties: {} } } }, 'PolicyName or PolicyDocument'],
  ])('refuses an invalid body %j, saying why', (doc, message) => {
    const e = errorOf(() => body(doc));
    expect(e.code).toBe('InvalidTemplate');
    expect(e.message).toContain(message);
  });

  it('refuses a certificate other than the one of the ownership token', () => {
    const doc = base();
    (doc.Resources as Record<string, object>).certificate = {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateId: 'd'.repeat(64) },
    };
    expect(errorOf(() => planProvisioning(body(doc), { ThingName: 't' }, CERT)).message).toContain(
      'ownership token',
    );
  });
});
