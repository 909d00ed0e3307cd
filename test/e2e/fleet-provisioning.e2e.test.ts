import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeCertificateCommand, IoTClient, ListThingPrincipalsCommand } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_FILE, localClientConfig } from '../../contracts';
import { synthesize } from '../../demo/synth';
import { runAgent } from '../../device/agent';
import { loadBundle } from '../../device/bundle';
import { type Claim, ClaimSession, loadClaim } from '../../device/provision';
import { type LocalCloud, startLocalCloud } from '../../local/cloud';
import { recordingLogger } from '../../local/common/log';
import { createClaim, revokeClaim } from '../../provisioning/claims';
import { provisionFirstBoot } from '../../provisioning/first-boot';
import { targetFor } from '../../provisioning/onboard';
import { REPO_ROOT } from './helpers/assembly';

/**
 * Fleet provisioning end to end: the project's CDK app synthesized for a fleet-provisioned
 * building, deployed into the local cloud (template, hook function, claim policy), a claim made
 * the way an operator makes it, and devices provisioning themselves with the real device SDK's
 * iotidentity client: accepted, refused with the hook's reason, resumed after a crash.
 */

const root = mkdtempSync(join(tmpdir(), 'zonectl-fleet-e2e-'));
const logger = recordingLogger();
let cloud: LocalCloud;
let claim: Claim;
let claimDir: string;
let iot: IoTClient;

beforeAll(async () => {
  const config = JSON.parse(readFileSync(join(REPO_ROOT, 'building.json'), 'utf8'));
  config.provisioning = 'fleet';
  const configPath = join(root, 'building.json');
  writeFileSync(configPath, JSON.stringify(config));
  mkdirSync(join(root, 'csr'));
  const synth = await synthesize({
    repoRoot: REPO_ROOT,
    configPath,
    csrDir: join(root, 'csr'),
    outDir: join(root, 'cdk.out'),
  });
  cloud = await startLocalCloud({ stateDir: join(root, 'state'), mqttPort: 0, apiPort: 0, logger });
  await cloud.deploy(synth.outDir);
  const target = targetFor({ local: true, stateDir: join(root, 'state') });
  claimDir = join(root, 'claim');
  try {
    await createClaim({ configPath, claimDir, target });
  } finally {
    target.iot.destroy();
  }
  claim = loadClaim(claimDir);
  iot = new IoTClient(localClientConfig(cloud.endpoints));
}, 170_000);

afterAll(async () => {
  iot?.destroy();
  await cloud?.close();
  rmSync(root, { recursive: true, force: true });
});

const devices = (name: string) => join(root, 'devices', name);

describe('a device provisioning itself with a claim', () => {
  it('registers the thing with its attributes, an ACTIVE certificate from its own key and a working bundle', async () => {
    const result = await provisionFirstBoot({
      thing: 'hq-lobby-climate',
      zone: 'lobby',
      claim,
      devicesDir: devices('a'),
    });
    expect(result.alreadyProvisioned).toBe(false);
    const thing = cloud.iot.registry.describeThing('hq-lobby-climate');
    expect(thing.attributes).toEqual({ building: 'hq', zone: 'lobby', kind: 'sensor' });
    const described = await iot.send(new DescribeCertificateCommand({ certificateId: result.certificateId }));
    expect(described.certificateDescription?.status).toBe('ACTIVE');
    const bundle = loadBundle(result.bundlePath);
    expect(bundle).toMatchObject({
      thing: 'hq-lobby-climate',
      zone: 'lobby',
      senses: ['temperature', 'humidity', 'co2'],
    });
    expect(bundle.safety).toEqual({
      minTemperature: 17,
      maxTemperature: 22.5,
      temperatureHysteresis: 0.5,
      co2Limit: 900,
      co2HighLimit: 1300,
    });
    // The bundle is the one onboarding writes: the agent connects and publishes with it.
    const agent = await runAgent(bundle, {
      dataDir: join(devices('a'), 'hq-lobby-climate', 'data'),
      endpoint: { host: '127.0.0.1', port: cloud.endpoints.mqttPort },
      log: () => undefined,
    });
    try {
      await expect.poll(() => agent.stats().published, { timeout: 20_000 }).toBeGreaterThan(0);
    } finally {
      await agent.stop();
    }
  });

  it('takes the zone from the inventory when the installer gives none, and does nothing twice on one device', async () => {
    const first = await provisionFirstBoot({ thing: 'hq-lobby-hvac', claim, devicesDir: devices('b') });
    expect(first.zone).toBe('lobby');
    const again = await provisionFirstBoot({ thing: 'hq-lobby-hvac', claim, devicesDir: devices('b') });
    expect(again).toMatchObject({ alreadyProvisioned: true, certificateId: first.certificateId });
  });

  it('resumes after a crash at each step, with the same key and no second thing', async () => {
    const dir = devices('c');
    await expect(
      provisionFirstBoot({ thing: 'hq-f1e-climate', claim, devicesDir: dir, stopAfter: 'certificate' }),
    ).rejects.toThrow(/stopped/);
    await expect(
      provisionFirstBoot({ thing: 'hq-f1e-climate', claim, devicesDir: dir, stopAfter: 'registration' }),
    ).rejects.toThrow(/stopped/);
    const done = await provisionFirstBoot({ thing: 'hq-f1e-climate', claim, devicesDir: dir });
    expect(done.resumed).toEqual(['key', 'certificate', 'registration']);
    const principals = await iot.send(new ListThingPrincipalsCommand({ thingName: 'hq-f1e-climate' }));
    expect(principals.principals).toHaveLength(1);
  });
});

describe('refusals, on the device and in the logs, leaving nothing half-created', () => {
  const refused = async (thing: string, dir: string, zone?: string) => {
    const error = await provisionFirstBoot({ thing, zone, claim, devicesDir: devices(dir) }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error, `${thing} should be refused`).toBeInstanceOf(Error);
    return error!.message;
  };

  it.each([
    ['an unknown thing', 'hq-f9-nothing', undefined, "not in the device inventory of building 'hq'"],
    ['a thing of another building', 'site-b-f1-climate', undefined, "not a thing of building 'hq'"],
    [
      'a zone that does not match the inventory',
      'hq-f1e-hvac',
      'lobby',
      "belongs in zone 'floor1-east' by the inventory, not 'lobby'",
    ],
  ])('refuses %s with the hook reason, creating no thing', async (_what, thing, zone, reason) => {
    const message = await refused(thing, `r-${thing}`, zone);
    expect(message).toContain(reason);
    expect(message).toContain('403 AccessDenied');
    expect(() => cloud.iot.registry.describeThing(thing)).toThrow();
    expect(logger.lines.some((l) => l.includes('denied') && l.includes('RegisterThing'))).toBe(true);
  });

  it('refuses a second device taking over a provisioned thing, naming the certificate to revoke, and leaves the new certificate unactivated', async () => {
    const message = await refused('hq-lobby-climate', 'thief');
    expect(message).toMatch(/already provisioned with certificate [0-9a-f]{64}, made for another key/);
    expect(message).toContain('zonectl revoke hq-lobby-climate');
    const progress = JSON.parse(
      readFileSync(join(devices('thief'), 'hq-lobby-climate', 'provisioning.json'), 'utf8'),
    );
    expect(cloud.iot.registry.describeCertificate(progress.certificateId).status).toBe('PENDING_ACTIVATION');
  });

  it('refuses a CSR with a weak key at CreateCertificateFromCsr', async () => {
    const error = await provisionFirstBoot({
      thing: 'hq-meeta-multi',
      claim,
      devicesDir: devices('weak'),
      keyKind: 'RSA-1024',
    }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /the cloud refused the CSR: .*RSA key of 1024 bits is too short/,
    );
  });

  it('refuses a registration without a thing name, and a reused ownership token for another thing', async () => {
    const session = await ClaimSession.open(claim);
    try {
      const { generateKeyAndCsr } = await import('../../contracts/pki');
      const cert = await session.createCertificateFromCsr((await generateKeyAndCsr('x')).csrPem);
      await expect(session.registerThing(cert.ownershipToken, {})).rejects.toThrow(
        /ThingName parameter is missing/,
      );
      await session.registerThing(cert.ownershipToken, { ThingName: 'hq-meeta-room' });
      await expect(
        session.registerThing(cert.ownershipToken, { ThingName: 'hq-f1e-presence' }),
      ).rejects.toThrow(/InvalidCertificateOwnershipToken|already provisioned/);
    } finally {
      await session.close();
    }
  });

  it('refuses a revoked claim at the broker, saying to ask for a new one', async () => {
    const second = join(root, 'claim-2');
    const target = targetFor({ local: true, stateDir: join(root, 'state') });
    try {
      await createClaim({ configPath: join(root, 'building.json'), claimDir: second, target });
      await revokeClaim({ claimDir: second, target });
    } finally {
      target.iot.destroy();
    }
    const message = await provisionFirstBoot({
      thing: 'hq-f1e-lights',
      claim: loadClaim(second),
      devicesDir: devices('revoked'),
    }).catch((e: Error) => e.message);
    expect(message).toContain('The broker refused the claim');
    expect(message).toContain('zonectl claim create');
  });

  it('keeps the claim to provisioning: it cannot publish telemetry', async () => {
    const bundle = loadBundle(join(devices('a'), 'hq-lobby-climate', BUNDLE_FILE));
    const agent = await runAgent(
      { ...bundle, certificatePem: claim.certificatePem, privateKeyPem: claim.privateKeyPem },
      {
        dataDir: join(root, 'claim-agent'),
        endpoint: { host: '127.0.0.1', port: cloud.endpoints.mqttPort },
        log: () => undefined,
        link: { minBackoffMs: 60_000 },
      },
    );
    try {
      await expect
        .poll(
          () =>
            logger.lines.some(
              (l) => l.includes('denied iot:Connect') && l.includes("client 'hq-lobby-climate'"),
            ),
          {
            timeout: 15_000,
          },
        )
        .toBe(true);
      expect(agent.stats().published).toBe(0);
    } finally {
      await agent.stop();
    }
  });
});
