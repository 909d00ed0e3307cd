import { describe, expect, it, vi } from 'vitest';
import {
  type PreProvisioningHookEvent,
  type ProvisioningInventory,
  type ProvisioningRefusal,
  refusalTopic,
} from '../../contracts';
import { type AttachedCertificate, decide } from '../../lambda/provisioning-hook/decide';
import { createHookHandler } from '../../lambda/provisioning-hook/handler';

const INVENTORY: ProvisioningInventory = {
  v: 1,
  building: 'hq',
  devices: {
    'hq-f3-climate': { zone: 'f3-east', kind: 'sensor', senses: ['temperature', 'co2'], drives: [] },
    'hq-f3-hvac': { zone: 'f3-east', kind: 'actuator', senses: [], drives: ['heating', 'ventilation'] },
  },
};

const event = (
  parameters: Record<string, string>,
  certificateId = 'c'.repeat(64),
): PreProvisioningHookEvent => ({
  claimCertificateId: 'a'.repeat(64),
  certificateId,
  certificatePem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
  templateArn: 'arn:aws:iot:us-east-1:000000000000:provisioningtemplate/zonectl-hq',
  clientId: 'zonectl.claim.hq.1',
  parameters,
});

describe('pre-provisioning hook decision', () => {
  it('allows a device of the inventory and sets its zone, kind and kinds from the inventory', () => {
    expect(decide(event({ ThingName: 'hq-f3-hvac', Zone: 'f3-east' }), INVENTORY, [])).toEqual({
      allow: true,
      thing: 'hq-f3-hvac',
      parameterOverrides: { Zone: 'f3-east', Kind: 'actuator', Senses: '', Drives: 'heating,ventilation' },
    });
  });

  it('allows a device that names no zone and gives it the inventory zone', () => {
    const decision = decide(event({ ThingName: 'hq-f3-climate' }), INVENTORY, []);
    expect(decision.allow && decision.parameterOverrides.Zone).toBe('f3-east');
  });

  it.each([
    [{}, /ThingName parameter is missing/],
    [{ ThingName: 'hq f3 climate' }, /is not a thing name/],
    [{ ThingName: 'site-b-f1-climate' }, /not a thing of building 'hq'/],
    [{ ThingName: 'hq-f9-climate' }, /not in the device inventory of building 'hq'/],
    [
      { ThingName: 'hq-f3-climate', Zone: 'f4-west' },
      /belongs in zone 'f3-east' by the inventory, not 'f4-west'/,
    ],
  ])('refuses %j with a reason that names the fix', (parameters, reason) => {
    const decision = decide(event(parameters as Record<string, string>), INVENTORY, []);
    expect(decision.allow).toBe(false);
    expect(!decision.allow && decision.reason).toMatch(reason);
  });

  it('refuses another key for a thing that has an active certificate, naming the revoke command', () => {
    const attached: AttachedCertificate[] = [
      { certificateId: 'b'.repeat(64), status: 'ACTIVE', sameKey: false },
    ];
    const decision = decide(event({ ThingName: 'hq-f3-hvac' }), INVENTORY, attached);
    expect(!decision.allow && decision.reason).toContain(
      `zonectl revoke hq-f3-hvac --certificate-id ${'b'.repeat(64)}`,
    );
  });

  it('allows the same device again: its own key, its own certificate, or only revoked ones attached', () => {
    for (const attached of [
      [{ certificateId: 'b'.repeat(64), status: 'ACTIVE', sameKey: true }],
      [{ certificateId: 'c'.repeat(64), status: 'ACTIVE', sameKey: false }],
      [{ certificateId: 'b'.repeat(64), status: 'REVOKED', sameKey: false }],
    ]) {
      expect(decide(event({ ThingName: 'hq-f3-hvac' }), INVENTORY, attached).allow).toBe(true);
    }
  });
});

describe('pre-provisioning hook handler', () => {
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };

  it('refuses, logs the reason and publishes it on the refusal topic of the asking client', async () => {
    const published: Array<[string, ProvisioningRefusal]> = [];
    const handler = createHookHandler({
      inventory: INVENTORY,
      logger,
      now: () => 1,
      attachedCertificates: async () => [],
      publishRefusal: async (topic, refusal) => {
        published.push([topic, refusal]);
      },
    });
    expect(await handler(event({ ThingName: 'hq-f9-climate' }))).toEqual({ allowProvisioning: false });
    expect(published).toEqual([
      [
        refusalTopic('hq', 'zonectl.claim.hq.1'),
        { thing: 'hq-f9-climate', reason: expect.stringContaining('not in the device inventory'), at: 1 },
      ],
    ]);
    expect(logger.warn).toHaveBeenCalledWith(
      'provisioning refused',
      expect.objectContaining({ thing: 'hq-f9-climate' }),
    );
  });

  it('refuses a malformed event and when the certificate lookup fails, never throwing', async () => {
    const handler = createHookHandler({
      inventory: INVENTORY,
      logger,
      attachedCertificates: async () => {
        throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      },
      publishRefusal: async () => {
        throw new Error('publish failed');
      },
    });
    expect(await handler({ nonsense: true })).toEqual({ allowProvisioning: false });
    expect(await handler(event({ ThingName: 'hq-f3-hvac' }))).toEqual({ allowProvisioning: false });
    expect(logger.error).toHaveBeenCalledWith('refusal not published to the device', expect.anything());
  });

  it('allows with the inventory overrides', async () => {
    const handler = createHookHandler({
      inventory: INVENTORY,
      logger,
      attachedCertificates: async () => [],
      publishRefusal: async () => undefined,
    });
    const answer = await handler(event({ ThingName: 'hq-f3-climate', Zone: 'f3-east' }));
    expect(answer).toEqual({
      allowProvisioning: true,
      parameterOverrides: { Zone: 'f3-east', Kind: 'sensor', Senses: 'temperature,co2', Drives: '' },
    });
  });
});
