import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import {
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BUNDLE_FILE,
  COMMAND_SHADOW_NAME,
  certificateOutputKey,
  csrFileName,
  ENDPOINTS_FILE,
  localClientConfig,
  PRIVATE_KEY_FILE,
  STACK_OUTPUTS_FILE,
  telemetryTopic,
} from '../../contracts';
import { certificateIdOf, csrSubject } from '../../contracts/pki';
import { loadBundle } from '../../device/bundle';
import {
  AMAZON_ROOT_CA_1_FINGERPRINT256,
  AMAZON_ROOT_CA_1_PEM,
  AMAZON_ROOT_CAS,
} from '../../provisioning/amazon-root-ca';
import { explainAwsError, OnboardError } from '../../provisioning/errors';
import {
  finishOnboarding,
  retirePrevious,
  revokeDevice,
  startOnboarding,
  type Target,
  targetFor,
} from '../../provisioning/onboard';
import { createTestPki, type TestPki } from '../helpers/pki';

const CONFIG = 'building.json';
const THING = 'hq-lobby-climate';
const STACK = 'Zonectl-hq';

let root: string;
let devicesDir: string;
let csrDir: string;
let stateDir: string;
let pki: TestPki;
const iotMock = mockClient(IoTClient);

beforeAll(async () => {
  pki = await createTestPki();
});

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'onboard-'));
  devicesDir = join(root, 'devices');
  csrDir = join(root, 'csr');
  stateDir = join(root, 'local');
  iotMock.reset();
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const start = (thing = THING, rotate = false) =>
  startOnboarding({ thing, configPath: CONFIG, csrDir, devicesDir, rotate });

/** A local cloud state dir: endpoints.json, the CA file and (optionally) stack outputs. */
function localState(outputs?: Record<string, Record<string, string>>): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'ca.pem'), pki.caPem);
  writeFileSync(
    join(stateDir, ENDPOINTS_FILE),
    JSON.stringify({
      mqttHost: '127.0.0.1',
      mqttPort: 18883,
      apiEndpoint: 'http://127.0.0.1:1',
      caFile: join(stateDir, 'ca.pem'),
      region: 'us-east-1',
      accountId: '000000000000',
    }),
  );
  if (outputs) writeFileSync(join(stateDir, STACK_OUTPUTS_FILE), JSON.stringify(outputs));
}

/** Signs the thing's CSR as the deploy would and makes DescribeCertificate return it. */
async function issue(thing = THING, status = 'ACTIVE'): Promise<string> {
  const pem = await pki.sign(readFileSync(join(csrDir, csrFileName(thing)), 'utf8'));
  const id = certificateIdOf(pem);
  iotMock.on(DescribeCertificateCommand, { certificateId: id }).resolves({
    certificateDescription: { certificateId: id, certificatePem: pem, status: status as never },
  });
  return id;
}

const localTarget = (): Target => targetFor({ local: true, stateDir });

describe('onboard <thing>', () => {
  it('stores a P-256 private key with mode 0600 and writes a CSR for the thing', async () => {
    const result = await start();
    expect(statSync(result.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(devicesDir, THING)).mode & 0o077).toBe(0);
    const key = readFileSync(result.keyPath, 'utf8');
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const { createPrivateKey } = await import('node:crypto');
    expect(createPrivateKey(key).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(result.csrPath).toBe(join(csrDir, csrFileName(THING)));
    expect(csrSubject(readFileSync(result.csrPath, 'utf8'))).toBe(`CN=${THING}`);
  });

  it('refuses to overwrite an existing key without --rotate', async () => {
    const first = await start();
    const before = readFileSync(first.keyPath, 'utf8');
    await expect(start()).rejects.toThrow(/never overwritten.*--rotate/);
    expect(readFileSync(first.keyPath, 'utf8')).toBe(before);
  });

  it('fails for an unknown thing and lists close matches', async () => {
    await expect(start('hq-lobby-climat')).rejects.toThrow(
      /No thing named "hq-lobby-climat".*Did you mean "hq-lobby-climate"/,
    );
    expect(existsSync(join(devicesDir, 'hq-lobby-climat'))).toBe(false);
  });

  it('rotation keeps the old key as previous and writes a new key and CSR', async () => {
    const first = await start();
    const oldKey = readFileSync(first.keyPath, 'utf8');
    const rotated = await start(THING, true);
    expect(rotated.rotated).toBe(true);
    expect(readFileSync(join(devicesDir, THING, 'previous', PRIVATE_KEY_FILE), 'utf8')).toBe(oldKey);
    expect(readFileSync(rotated.keyPath, 'utf8')).not.toBe(oldKey);
    expect(statSync(rotated.keyPath).mode & 0o777).toBe(0o600);
  });
});

describe('onboard <thing> --finish', () => {
  it('writes a self-contained bundle for the local cloud with its CA, endpoint and topics', async () => {
    await start();
    const id = await issue();
    localState({ [STACK]: { [certificateOutputKey(THING)]: id } });
    const result = await finishOnboarding({
      thing: THING,
      configPath: CONFIG,
      devicesDir,
      target: localTarget(),
    });
    expect(statSync(result.bundlePath).mode & 0o777).toBe(0o600);
    const bundle = loadBundle(join(devicesDir, THING, BUNDLE_FILE));
    expect(bundle).toMatchObject({
      target: 'local',
      thing: THING,
      clientId: THING,
      building: 'hq',
      zone: 'lobby',
      senses: ['temperature', 'humidity', 'co2'],
      drives: [],
      endpoint: { host: '127.0.0.1', port: 18883 },
      topics: {
        telemetry: telemetryTopic({ building: 'hq', zone: 'lobby', thing: THING }),
        commandShadow: COMMAND_SHADOW_NAME,
      },
      certificateId: id,
      caPem: pki.caPem,
    });
    expect(bundle.privateKeyPem).toBe(readFileSync(join(devicesDir, THING, PRIVATE_KEY_FILE), 'utf8'));
  });

  it('fails with a deploy hint when nothing is deployed', async () => {
    await start();
    localState();
    await expect(
      finishOnboarding({ thing: THING, configPath: CONFIG, devicesDir, target: localTarget() }),
    ).rejects.toThrow(/Nothing is deployed to the local cloud yet.*deploy/);
  });

  it('fails with a deploy hint when the stack has no certificate for the thing', async () => {
    await start();
    localState({ [STACK]: {} });
    await expect(
      finishOnboarding({ thing: THING, configPath: CONFIG, devicesDir, target: localTarget() }),
    ).rejects.toThrow(new RegExp(`no output ${certificateOutputKey(THING)}.*again`));
  });

  it('fails when the certificate is not issued yet', async () => {
    await start();
    localState({ [STACK]: { [certificateOutputKey(THING)]: 'a'.repeat(64) } });
    iotMock
      .on(DescribeCertificateCommand)
      .rejects(Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' }));
    await expect(
      finishOnboarding({ thing: THING, configPath: CONFIG, devicesDir, target: localTarget() }),
    ).rejects.toThrow(/not issued yet/);
  });

  it('refuses a certificate issued for another key', async () => {
    await start();
    const id = await issue();
    await start('hq-lobby-presence');
    localState({ [STACK]: { [certificateOutputKey('hq-lobby-presence')]: id } });
    await expect(
      finishOnboarding({ thing: 'hq-lobby-presence', configPath: CONFIG, devicesDir, target: localTarget() }),
    ).rejects.toThrow(/issued for another key/);
  });

  it('after a rotation, keeps the previous certificate ACTIVE until --retire-previous (defect 6)', async () => {
    await start();
    const oldId = await issue();
    localState({ [STACK]: { [certificateOutputKey(THING)]: oldId } });
    await finishOnboarding({ thing: THING, configPath: CONFIG, devicesDir, target: localTarget() });
    await start(THING, true);
    const newId = await issue();
    localState({ [STACK]: { [certificateOutputKey(THING)]: newId } });
    iotMock.on(UpdateCertificateCommand).resolves({});
    const result = await finishOnboarding({
      thing: THING,
      configPath: CONFIG,
      devicesDir,
      target: localTarget(),
    });
    expect(result.previous).toBe(oldId);
    expect(iotMock.commandCalls(UpdateCertificateCommand)).toEqual([]);
    expect(loadBundle(result.bundlePath).certificateId).toBe(newId);
    // the operator's copy of the old bundle stays until the device has switched
    expect(existsSync(join(devicesDir, THING, 'previous', BUNDLE_FILE))).toBe(true);
    // a second rotation waits for the first to be retired
    await expect(start(THING, true)).rejects.toThrow(/--retire-previous/);

    const retired = await retirePrevious({ thing: THING, devicesDir, target: localTarget() });
    expect(retired.retired).toBe(oldId);
    expect(iotMock.commandCalls(UpdateCertificateCommand)[0]?.args[0].input).toEqual({
      certificateId: oldId,
      newStatus: 'INACTIVE',
    });
    expect(existsSync(join(devicesDir, THING, 'previous'))).toBe(false);
    expect(await retirePrevious({ thing: THING, devicesDir, target: localTarget() })).toEqual({});
  });
});

describe('revoke <thing>', () => {
  it('sets the recorded certificate to REVOKED', async () => {
    await start();
    const id = await issue();
    localState({ [STACK]: { [certificateOutputKey(THING)]: id } });
    await finishOnboarding({ thing: THING, configPath: CONFIG, devicesDir, target: localTarget() });
    iotMock.on(UpdateCertificateCommand).resolves({});
    await revokeDevice({ thing: THING, devicesDir, target: localTarget() });
    expect(iotMock.commandCalls(UpdateCertificateCommand)[0]?.args[0].input).toEqual({
      certificateId: id,
      newStatus: 'REVOKED',
    });
  });

  it('fails with a hint when no certificate is recorded', async () => {
    localState();
    await expect(revokeDevice({ thing: THING, devicesDir, target: localTarget() })).rejects.toThrow(
      /No certificate is recorded.*--certificate-id/,
    );
  });
});

describe('bad-input messages', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it('says to start the local cloud when its API refuses connections', async () => {
    iotMock.restore();
    try {
      server = createServer();
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      await new Promise<void>((r) => server!.close(() => r()));
      server = undefined;
      const client = new IoTClient({
        ...localClientConfig({ apiEndpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' }),
        maxAttempts: 1,
      });
      const err = await client
        .send(new DescribeCertificateCommand({ certificateId: 'x' }))
        .catch((e: unknown) => e);
      client.destroy();
      const explained = explainAwsError(err, {
        action: 'reading the certificate',
        endpoint: `127.0.0.1:${port}`,
        local: true,
      });
      expect(explained).toBeInstanceOf(OnboardError);
      expect(explained.message).toMatch(/connection refused.*zonectl local up/);
    } finally {
      mockClient(IoTClient);
    }
  });

  it('says how to get credentials when none are found', () => {
    const err = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(explainAwsError(err, { action: 'x', local: false }).message).toMatch(
      /No AWS credentials found.*aws configure/,
    );
  });

  it('says to refresh expired credentials', () => {
    const err = Object.assign(new Error('The security token included in the request is expired'), {
      name: 'ExpiredTokenException',
    });
    expect(explainAwsError(err, { action: 'x', local: false }).message).toMatch(
      /credentials were refused.*refresh/,
    );
  });

  it('passes unexpected errors through unchanged', () => {
    const err = new TypeError('boom');
    expect(explainAwsError(err, { action: 'x', local: false })).toBe(err);
  });
});

describe('the Amazon roots (defect 7)', () => {
  it('ships Amazon Root CA 1 to 4 and Starfield Services Root CA G2, each the root Node trusts', () => {
    expect(AMAZON_ROOT_CAS.map((r) => r.name)).toEqual([
      'Amazon Root CA 1',
      'Amazon Root CA 2',
      'Amazon Root CA 3',
      'Amazon Root CA 4',
      'Starfield Services Root Certificate Authority - G2',
    ]);
    const nodeRoots = new Set(tls.rootCertificates.map((c) => new X509Certificate(c).fingerprint256));
    for (const root of AMAZON_ROOT_CAS) {
      const cert = new X509Certificate(root.pem);
      expect(cert.fingerprint256, root.name).toBe(root.fingerprint256);
      expect(cert.subject, root.name).toContain(`CN=${root.name}`);
      expect(cert.ca, root.name).toBe(true);
      expect(nodeRoots.has(root.fingerprint256), root.name).toBe(true);
    }
  });

  it('puts every root in the trust store of a bundle for AWS', async () => {
    await start();
    const id = await issue();
    iotMock
      .on(DescribeEndpointCommand)
      .resolves({ endpointAddress: 'abc123-ats.iot.eu-west-1.amazonaws.com' });
    const result = await finishOnboarding({
      thing: THING,
      configPath: CONFIG,
      devicesDir,
      target: { local: false, iot: new IoTClient({ region: 'eu-west-1' }) },
      certificateId: id,
    });
    const bundle = loadBundle(result.bundlePath);
    expect(bundle.endpoint).toEqual({ host: 'abc123-ats.iot.eu-west-1.amazonaws.com', port: 8883 });
    const shipped = bundle.caPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    expect(shipped.map((p) => new X509Certificate(p).fingerprint256)).toEqual(
      AMAZON_ROOT_CAS.map((r) => r.fingerprint256),
    );
  });
});

describe('Amazon Root CA 1', () => {
  it('is the root Node trusts, with the published fingerprint', () => {
    const shipped = new X509Certificate(AMAZON_ROOT_CA_1_PEM);
    expect(shipped.fingerprint256).toBe(AMAZON_ROOT_CA_1_FINGERPRINT256);
    expect(
      tls.rootCertificates.some((c) => new X509Certificate(c).fingerprint256 === shipped.fingerprint256),
    ).toBe(true);
  });
});
