import { createHash, X509Certificate } from 'node:crypto';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CertificateStateException,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  CreateTopicRuleCommand,
  DeleteCertificateCommand,
  DeleteConflictException,
  DeletePolicyCommand,
  DeleteThingCommand,
  DeleteTopicRuleCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  GetPolicyCommand,
  GetTopicRuleCommand,
  InvalidRequestException,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  ListPoliciesCommand,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  ListTopicRulesCommand,
  MalformedPolicyException,
  ReplaceTopicRuleCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UnauthorizedException,
  UpdateCertificateCommand,
  UpdateThingCommand,
  VersionConflictException,
} from '@aws-sdk/client-iot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyAndCsr } from '../../../contracts/pki';
import type { RegistryEvent } from '../../../local/iot';
import { tamperSignature } from '../ca/csr';
import { type IotHarness, startIot } from './harness';

let h: IotHarness;
beforeEach(async () => {
  h = await startIot();
});
afterEach(async () => {
  await h.close();
});

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: `arn:aws:iot:${REGION}:${ACCOUNT}:client/\${iot:ClientId}`,
    },
  ],
});

async function newCertificate(active = true) {
  const { csrPem } = await generateKeyAndCsr('device');
  return h.client.send(
    new CreateCertificateFromCsrCommand({ certificateSigningRequest: csrPem, setAsActive: active }),
  );
}

describe('things', () => {
  it('creates a thing and describes it with its attributes', async () => {
    const created = await h.client.send(
      new CreateThingCommand({ thingName: 'lobby-t1', attributePayload: { attributes: { zone: 'lobby' } } }),
    );
    expect(created.thingArn).toBe(`arn:aws:iot:${REGION}:${ACCOUNT}:thing/lobby-t1`);
    const thing = await h.client.send(new DescribeThingCommand({ thingName: 'lobby-t1' }));
    expect(thing).toMatchObject({
      thingName: 'lobby-t1',
      thingId: created.thingId,
      attributes: { zone: 'lobby' },
      version: 1,
    });
  });

  it('creates the same thing twice without error when the configuration is identical', async () => {
    const a = await h.client.send(
      new CreateThingCommand({ thingName: 't1', attributePayload: { attributes: { z: '1' } } }),
    );
    const b = await h.client.send(
      new CreateThingCommand({ thingName: 't1', attributePayload: { attributes: { z: '1' } } }),
    );
    expect(b.thingId).toBe(a.thingId);
  });

  it('refuses to recreate a thing with a different configuration as ResourceAlreadyExistsException', async () => {
    await h.client.send(new CreateThingCommand({ thingName: 't1' }));
    await expect(
      h.client.send(
        new CreateThingCommand({ thingName: 't1', attributePayload: { attributes: { z: '2' } } }),
      ),
    ).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
  });

  it('reports an unknown thing as ResourceNotFoundException', async () => {
    const err = await h.client.send(new DescribeThingCommand({ thingName: 'nope' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect((err as Error).message).toMatch(/nope/);
    expect((err as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
  });

  it('refuses an invalid thing name as InvalidRequestException', async () => {
    await expect(h.client.send(new CreateThingCommand({ thingName: 'bad name!' }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
  });

  it('replaces attributes on update, or merges them with merge=true where an empty value removes one', async () => {
    await h.client.send(
      new CreateThingCommand({ thingName: 't1', attributePayload: { attributes: { a: '1', b: '2' } } }),
    );
    await h.client.send(
      new UpdateThingCommand({
        thingName: 't1',
        attributePayload: { attributes: { b: '', c: '3' }, merge: true },
      }),
    );
    expect((await h.client.send(new DescribeThingCommand({ thingName: 't1' }))).attributes).toEqual({
      a: '1',
      c: '3',
    });
    await h.client.send(
      new UpdateThingCommand({ thingName: 't1', attributePayload: { attributes: { d: '4' } } }),
    );
    const thing = await h.client.send(new DescribeThingCommand({ thingName: 't1' }));
    expect(thing.attributes).toEqual({ d: '4' });
    expect(thing.version).toBe(3);
  });

  it('refuses an update with a stale expectedVersion as VersionConflictException', async () => {
    await h.client.send(new CreateThingCommand({ thingName: 't1' }));
    await expect(
      h.client.send(
        new UpdateThingCommand({ thingName: 't1', expectedVersion: 7, attributePayload: { attributes: {} } }),
      ),
    ).rejects.toBeInstanceOf(VersionConflictException);
  });

  it('lists things filtered by attribute, a page at a time', async () => {
    for (const [name, zone] of [
      ['a1', 'lobby'],
      ['a2', 'roof'],
      ['a3', 'lobby'],
      ['a4', 'lobby'],
    ] as const) {
      await h.client.send(
        new CreateThingCommand({ thingName: name, attributePayload: { attributes: { zone } } }),
      );
    }
    const first = await h.client.send(
      new ListThingsCommand({ attributeName: 'zone', attributeValue: 'lobby', maxResults: 2 }),
    );
    expect(first.things?.map((t) => t.thingName)).toEqual(['a1', 'a3']);
    expect(first.nextToken).toBeDefined();
    const second = await h.client.send(
      new ListThingsCommand({
        attributeName: 'zone',
        attributeValue: 'lobby',
        maxResults: 2,
        nextToken: first.nextToken,
      }),
    );
    expect(second.things?.map((t) => t.thingName)).toEqual(['a4']);
    expect(second.nextToken).toBeUndefined();
  });

  it('deletes a thing, and deleting it again succeeds', async () => {
    await h.client.send(new CreateThingCommand({ thingName: 't1' }));
    await h.client.send(new DeleteThingCommand({ thingName: 't1' }));
    await h.client.send(new DeleteThingCommand({ thingName: 't1' }));
    await expect(h.client.send(new DescribeThingCommand({ thingName: 't1' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});

describe('certificates', () => {
  it('signs a CSR into a certificate whose id is the SHA-256 of its DER', async () => {
    const created = await newCertificate();
    const der = new X509Certificate(created.certificatePem ?? '').raw;
    expect(created.certificateId).toBe(createHash('sha256').update(der).digest('hex'));
    expect(created.certificateArn).toBe(`arn:aws:iot:${REGION}:${ACCOUNT}:cert/${created.certificateId}`);
    expect(
      new X509Certificate(created.certificatePem ?? '').verify(new X509Certificate(h.ca.caPem).publicKey),
    ).toBe(true);
  });

  it('refuses a CSR with a bad signature as InvalidRequestException', async () => {
    const { csrPem } = await generateKeyAndCsr('device');
    await expect(
      h.client.send(
        new CreateCertificateFromCsrCommand({ certificateSigningRequest: tamperSignature(csrPem) }),
      ),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });

  it('creates keys and an INACTIVE certificate unless setAsActive', async () => {
    const made = await h.client.send(new CreateKeysAndCertificateCommand({}));
    expect(made.keyPair?.PrivateKey).toMatch(/BEGIN RSA PRIVATE KEY/);
    const described = await h.client.send(
      new DescribeCertificateCommand({ certificateId: made.certificateId }),
    );
    expect(described.certificateDescription?.status).toBe('INACTIVE');
    expect(described.certificateDescription?.creationDate).toBeInstanceOf(Date);
  });

  it('changes status with UpdateCertificate and tells listeners so live sessions can be dropped', async () => {
    const cert = await newCertificate();
    const events: RegistryEvent[] = [];
    h.iot.directory.on((e) => events.push(e));
    await h.client.send(
      new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'REVOKED' }),
    );
    const described = await h.client.send(
      new DescribeCertificateCommand({ certificateId: cert.certificateId }),
    );
    expect(described.certificateDescription?.status).toBe('REVOKED');
    expect(h.iot.directory.certificateById(cert.certificateId ?? '')?.status).toBe('REVOKED');
    expect(events).toContainEqual({
      type: 'certificate-status',
      certificateId: cert.certificateId,
      status: 'REVOKED',
    });
  });

  it('refuses to reactivate a revoked certificate as CertificateStateException', async () => {
    const cert = await newCertificate();
    await h.client.send(
      new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'REVOKED' }),
    );
    await expect(
      h.client.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'ACTIVE' })),
    ).rejects.toBeInstanceOf(CertificateStateException);
  });

  it('refuses to delete an ACTIVE certificate as CertificateStateException', async () => {
    const cert = await newCertificate();
    await expect(
      h.client.send(new DeleteCertificateCommand({ certificateId: cert.certificateId })),
    ).rejects.toBeInstanceOf(CertificateStateException);
  });

  it('refuses to delete a certificate attached to a thing as DeleteConflictException', async () => {
    const cert = await newCertificate(false);
    await h.client.send(new CreateThingCommand({ thingName: 't1' }));
    await h.client.send(new AttachThingPrincipalCommand({ thingName: 't1', principal: cert.certificateArn }));
    await expect(
      h.client.send(new DeleteCertificateCommand({ certificateId: cert.certificateId })),
    ).rejects.toBeInstanceOf(DeleteConflictException);
  });

  it('lists and deletes inactive certificates', async () => {
    const a = await newCertificate(false);
    const b = await newCertificate(false);
    const listed = await h.client.send(new ListCertificatesCommand({}));
    expect(listed.certificates?.map((c) => c.certificateId).sort()).toEqual(
      [a.certificateId, b.certificateId].sort(),
    );
    await h.client.send(new DeleteCertificateCommand({ certificateId: a.certificateId }));
    const after = await h.client.send(new ListCertificatesCommand({}));
    expect(after.certificates?.map((c) => c.certificateId)).toEqual([b.certificateId]);
  });
});

describe('policies and attachments', () => {
  it('creates, gets and lists a policy', async () => {
    const created = await h.client.send(
      new CreatePolicyCommand({ policyName: 'device', policyDocument: POLICY }),
    );
    expect(created).toMatchObject({
      policyArn: `arn:aws:iot:${REGION}:${ACCOUNT}:policy/device`,
      policyVersionId: '1',
    });
    const got = await h.client.send(new GetPolicyCommand({ policyName: 'device' }));
    expect(got.policyDocument).toBe(POLICY);
    expect(got.defaultVersionId).toBe('1');
    const listed = await h.client.send(new ListPoliciesCommand({}));
    expect(listed.policies?.map((p) => p.policyName)).toEqual(['device']);
  });

  it('refuses a malformed policy document as MalformedPolicyException', async () => {
    await expect(
      h.client.send(
        new CreatePolicyCommand({ policyName: 'bad', policyDocument: '{"Statement":[{"Effect":"Allow"}]}' }),
      ),
    ).rejects.toBeInstanceOf(MalformedPolicyException);
  });

  it('attaches a policy to a certificate and exposes it to the broker directory', async () => {
    const cert = await newCertificate();
    await h.client.send(new CreatePolicyCommand({ policyName: 'device', policyDocument: POLICY }));
    await h.client.send(new AttachPolicyCommand({ policyName: 'device', target: cert.certificateArn }));
    const attached = await h.client.send(new ListAttachedPoliciesCommand({ target: cert.certificateArn }));
    expect(attached.policies?.map((p) => p.policyName)).toEqual(['device']);
    const policies = h.iot.directory.policiesOfPrincipal(cert.certificateArn ?? '');
    expect(policies).toEqual([{ policyName: 'device', document: JSON.parse(POLICY) }]);
  });

  it('refuses to delete an attached policy as DeleteConflictException, and deletes it once detached', async () => {
    const cert = await newCertificate();
    await h.client.send(new CreatePolicyCommand({ policyName: 'device', policyDocument: POLICY }));
    await h.client.send(new AttachPolicyCommand({ policyName: 'device', target: cert.certificateArn }));
    await expect(h.client.send(new DeletePolicyCommand({ policyName: 'device' }))).rejects.toBeInstanceOf(
      DeleteConflictException,
    );
    await h.client.send(new DetachPolicyCommand({ policyName: 'device', target: cert.certificateArn }));
    await h.client.send(new DeletePolicyCommand({ policyName: 'device' }));
    await expect(h.client.send(new GetPolicyCommand({ policyName: 'device' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('refuses to attach a policy to an unknown certificate as ResourceNotFoundException', async () => {
    await h.client.send(new CreatePolicyCommand({ policyName: 'device', policyDocument: POLICY }));
    const target = `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${'a'.repeat(64)}`;
    await expect(
      h.client.send(new AttachPolicyCommand({ policyName: 'device', target })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('attaches a certificate to a thing and lists it both ways', async () => {
    const cert = await newCertificate();
    await h.client.send(new CreateThingCommand({ thingName: 't1' }));
    await h.client.send(
      new AttachThingPrincipalCommand({
        thingName: 't1',
        principal: cert.certificateArn,
        thingPrincipalType: 'EXCLUSIVE_THING',
      }),
    );
    const principals = await h.client.send(new ListThingPrincipalsCommand({ thingName: 't1' }));
    expect(principals.principals).toEqual([cert.certificateArn]);
    const things = await h.client.send(new ListPrincipalThingsCommand({ principal: cert.certificateArn }));
    expect(things.things).toEqual(['t1']);
    expect(h.iot.directory.thingsOfPrincipal(cert.certificateArn ?? '')).toMatchObject([
      { thing: { thingName: 't1' }, exclusive: true },
    ]);
    await h.client.send(new DetachThingPrincipalCommand({ thingName: 't1', principal: cert.certificateArn }));
    expect(h.iot.directory.thingsOfPrincipal(cert.certificateArn ?? '')).toEqual([]);
  });

  it('refuses a second thing for an exclusively attached certificate as InvalidRequestException', async () => {
    const cert = await newCertificate();
    await h.client.send(new CreateThingCommand({ thingName: 't1' }));
    await h.client.send(new CreateThingCommand({ thingName: 't2' }));
    await h.client.send(
      new AttachThingPrincipalCommand({
        thingName: 't1',
        principal: cert.certificateArn,
        thingPrincipalType: 'EXCLUSIVE_THING',
      }),
    );
    await expect(
      h.client.send(new AttachThingPrincipalCommand({ thingName: 't2', principal: cert.certificateArn })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });
});

describe('endpoint', () => {
  it('returns a local address that stays the same across a restart on the same state dir', async () => {
    const ats = await h.client.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    expect(ats.endpointAddress).toBe('localhost');
    const stateDir = h.stateDir;
    await h.close({ keepState: true });
    h = await startIot(stateDir);
    const again = await h.client.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    expect(again.endpointAddress).toBe(ats.endpointAddress);
  });

  it('keeps things, certificates and attachments across a restart', async () => {
    const cert = await newCertificate();
    await h.client.send(new CreateThingCommand({ thingName: 't1' }));
    await h.client.send(new AttachThingPrincipalCommand({ thingName: 't1', principal: cert.certificateArn }));
    const stateDir = h.stateDir;
    await h.close({ keepState: true });
    h = await startIot(stateDir);
    expect(h.iot.directory.certificateById(cert.certificateId ?? '')?.status).toBe('ACTIVE');
    expect(h.iot.directory.thingsOfPrincipal(cert.certificateArn ?? '')).toHaveLength(1);
    expect(await h.ca.isIssuedByMe(cert.certificatePem ?? '')).toBe(true);
  });

  it('refuses an unknown endpoint type as InvalidRequestException', async () => {
    await expect(
      h.client.send(new DescribeEndpointCommand({ endpointType: 'iot:Nope' })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });
});

describe('topic rules', () => {
  const payload = { sql: "SELECT * FROM 'dt/zonectl/#'", actions: [], awsIotSqlVersion: '2016-03-23' };

  it('stores a rule, lists it with its topic pattern and notifies listeners', async () => {
    const seen: string[][] = [];
    h.iot.registry.onRulesChange((rules) => seen.push(rules.map((r) => r.ruleName)));
    await h.client.send(new CreateTopicRuleCommand({ ruleName: 'ingest', topicRulePayload: payload }));
    const got = await h.client.send(new GetTopicRuleCommand({ ruleName: 'ingest' }));
    expect(got.rule).toMatchObject({
      ruleName: 'ingest',
      sql: payload.sql,
      awsIotSqlVersion: '2016-03-23',
      ruleDisabled: false,
    });
    expect(got.ruleArn).toBe(`arn:aws:iot:${REGION}:${ACCOUNT}:rule/ingest`);
    const listed = await h.client.send(new ListTopicRulesCommand({}));
    expect(listed.rules).toMatchObject([{ ruleName: 'ingest', topicPattern: 'dt/zonectl/#' }]);
    expect(seen).toEqual([['ingest']]);
  });

  it('defaults the SQL version to 2015-10-08 and replaces a rule in place', async () => {
    await h.client.send(
      new CreateTopicRuleCommand({
        ruleName: 'r1',
        topicRulePayload: { sql: "SELECT * FROM 'a'", actions: [] },
      }),
    );
    expect(h.iot.registry.rules()[0]?.awsIotSqlVersion).toBe('2015-10-08');
    await h.client.send(
      new ReplaceTopicRuleCommand({
        ruleName: 'r1',
        topicRulePayload: { sql: "SELECT * FROM 'b'", actions: [], ruleDisabled: true },
      }),
    );
    expect(h.iot.registry.rules()[0]).toMatchObject({ sql: "SELECT * FROM 'b'", ruleDisabled: true });
  });

  it('refuses a duplicate rule as ResourceAlreadyExistsException and a hyphenated name as InvalidRequestException', async () => {
    await h.client.send(new CreateTopicRuleCommand({ ruleName: 'r1', topicRulePayload: payload }));
    await expect(
      h.client.send(new CreateTopicRuleCommand({ ruleName: 'r1', topicRulePayload: payload })),
    ).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
    await expect(
      h.client.send(new CreateTopicRuleCommand({ ruleName: 'bad-name', topicRulePayload: payload })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });

  it('refuses a rule with more than 10 actions as InvalidRequestException', async () => {
    const actions = Array.from({ length: 11 }, () => ({ sqs: { queueUrl: 'q', roleArn: 'r' } }));
    await expect(
      h.client.send(
        new CreateTopicRuleCommand({ ruleName: 'r11', topicRulePayload: { ...payload, actions } }),
      ),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });

  it('answers a deleted rule with UnauthorizedException', async () => {
    await h.client.send(new CreateTopicRuleCommand({ ruleName: 'r1', topicRulePayload: payload }));
    await h.client.send(new DeleteTopicRuleCommand({ ruleName: 'r1' }));
    await expect(h.client.send(new GetTopicRuleCommand({ ruleName: 'r1' }))).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
  });
});
