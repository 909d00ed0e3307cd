import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyAndCsr } from '../../../contracts/pki';
import { CaStateError, createCaService } from '../../../local/ca';
import { AwsServiceError } from '../../../local/common/aws-error';
import { silentLogger } from '../../../local/common/log';
import { tamperSignature } from './csr';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zonectl-ca-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const derOf = (pem: string) => new X509Certificate(pem).raw;

async function rejection(promise: Promise<unknown>): Promise<AwsServiceError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AwsServiceError);
  return err as AwsServiceError;
}

describe('certificate authority', () => {
  it('creates ca.pem and a private key readable only by the owner on first start', async () => {
    const dir = tempDir();
    const ca = await createCaService({ dir, logger: silentLogger });
    expect(ca.caFile).toBe(join(dir, 'ca.pem'));
    expect(readFileSync(ca.caFile, 'utf8')).toBe(ca.caPem);
    expect(statSync(join(dir, 'ca.key.pem')).mode & 0o777).toBe(0o600);
    expect(new X509Certificate(ca.caPem).ca).toBe(true);
  });

  it('loads the same CA on a later start and still recognises its certificates', async () => {
    const dir = tempDir();
    const first = await createCaService({ dir, logger: silentLogger });
    const issued = await first.signCsr((await generateKeyAndCsr('device')).csrPem);
    const second = await createCaService({ dir, logger: silentLogger });
    expect(second.caPem).toBe(first.caPem);
    expect(await second.isIssuedByMe(issued.certificatePem)).toBe(true);
  });

  it.each(['P-256', 'P-384', 'RSA-2048'] as const)(
    'signs a %s CSR with the id as SHA-256 of the DER',
    async (kind) => {
      const ca = await createCaService({ dir: tempDir(), logger: silentLogger });
      const issued = await ca.signCsr((await generateKeyAndCsr('thing-1', kind)).csrPem);
      const cert = new X509Certificate(issued.certificatePem);
      expect(issued.certificateId).toBe(createHash('sha256').update(cert.raw).digest('hex'));
      expect(cert.subject).toContain('CN=thing-1');
      expect(cert.verify(new X509Certificate(ca.caPem).publicKey)).toBe(true);
      expect(await ca.isIssuedByMe(derOf(issued.certificatePem))).toBe(true);
    },
  );

  /** Damage done to a CA in `dir`; `other` is another CA's dir. */
  const DAMAGE: Array<[string, (dir: string, other: string) => void, RegExp]> = [
    [
      'ca.key.pem missing',
      (dir) => rmSync(join(dir, 'ca.key.pem')),
      /ca\.pem is there but .*ca\.key\.pem is missing/,
    ],
    [
      'ca.pem missing',
      (dir) => rmSync(join(dir, 'ca.pem')),
      /ca\.key\.pem is there but .*ca\.pem is missing/,
    ],
    [
      'ca.pem damaged',
      (dir) => writeFileSync(join(dir, 'ca.pem'), 'not a certificate'),
      /the CA certificate .*ca\.pem is damaged/,
    ],
    [
      'ca.key.pem damaged',
      (dir) => writeFileSync(join(dir, 'ca.key.pem'), 'not a key'),
      /the CA key .*ca\.key\.pem is damaged/,
    ],
    [
      "a key that is not the certificate's",
      (dir, other) => writeFileSync(join(dir, 'ca.key.pem'), readFileSync(join(other, 'ca.key.pem'))),
      /does not belong to the certificate/,
    ],
  ];

  function recordingLogger() {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warnings.push(m), child: () => logger };
    return { logger, warnings };
  }

  it('keeps a last-good copy of the CA pair beside it, the key readable only by the owner', async () => {
    const dir = tempDir();
    await (await createCaService({ dir, logger: silentLogger })).close();
    expect(readFileSync(join(dir, 'ca.pem.last-good'))).toEqual(readFileSync(join(dir, 'ca.pem')));
    expect(readFileSync(join(dir, 'ca.key.pem.last-good'))).toEqual(readFileSync(join(dir, 'ca.key.pem')));
    expect(statSync(join(dir, 'ca.key.pem.last-good')).mode & 0o777).toBe(0o600);
    // Copies, not links: damage to the file leaves its copy whole.
    expect(statSync(join(dir, 'ca.pem.last-good')).ino).not.toBe(statSync(join(dir, 'ca.pem')).ino);
  });

  it.each(DAMAGE)('restores the same CA from its last-good copy when %s, and says so', async (_, harm) => {
    const dir = tempDir();
    const other = tempDir();
    const first = await createCaService({ dir, logger: silentLogger });
    const issued = await first.signCsr((await generateKeyAndCsr('device')).csrPem);
    const caPem = first.caPem;
    await first.close();
    await (await createCaService({ dir: other, logger: silentLogger })).close();
    harm(dir, other);
    const { logger, warnings } = recordingLogger();
    const again = await createCaService({ dir, logger });
    expect(again.caPem).toBe(caPem);
    expect(await again.isIssuedByMe(derOf(issued.certificatePem))).toBe(true);
    expect(warnings.join('\n')).toMatch(/restored .*ca\.pem and .*ca\.key\.pem from their last good copy/);
    expect(statSync(join(dir, 'ca.key.pem')).mode & 0o777).toBe(0o600);
    await again.close();
  });

  it.each(DAMAGE)(
    'refuses to start, naming the file, when %s and the last-good copy is gone too',
    async (_, harm, message) => {
      const dir = tempDir();
      const other = tempDir();
      await (await createCaService({ dir, logger: silentLogger })).close();
      await (await createCaService({ dir: other, logger: silentLogger })).close();
      rmSync(join(dir, 'ca.pem.last-good'));
      rmSync(join(dir, 'ca.key.pem.last-good'));
      harm(dir, other);
      const err = await createCaService({ dir, logger: silentLogger }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CaStateError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain('no usable last good copy');
      expect((err as Error).message).toContain('zonectl onboard');
    },
  );

  it('issues a new certificate each time the same CSR is signed', async () => {
    const ca = await createCaService({ dir: tempDir(), logger: silentLogger });
    const { csrPem } = await generateKeyAndCsr('device');
    const a = await ca.signCsr(csrPem);
    const b = await ca.signCsr(csrPem);
    expect(a.certificateId).not.toBe(b.certificateId);
  });

  it('refuses an RSA key shorter than 2048 bits with InvalidRequestException', async () => {
    const ca = await createCaService({ dir: tempDir(), logger: silentLogger });
    const err = await rejection(ca.signCsr((await generateKeyAndCsr('device', 'RSA-1024')).csrPem));
    expect(err.code).toBe('InvalidRequestException');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/1024 bits/);
  });

  it('refuses a CSR whose signature does not verify', async () => {
    const ca = await createCaService({ dir: tempDir(), logger: silentLogger });
    const err = await rejection(ca.signCsr(tamperSignature((await generateKeyAndCsr('device')).csrPem)));
    expect(err.code).toBe('InvalidRequestException');
    expect(err.message).toMatch(/signature/);
  });

  it('refuses text that is not a CSR', async () => {
    const ca = await createCaService({ dir: tempDir(), logger: silentLogger });
    const err = await rejection(
      ca.signCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----'),
    );
    expect(err.code).toBe('InvalidRequestException');
  });

  it('creates an RSA-2048 key pair whose public key is in the certificate', async () => {
    const ca = await createCaService({ dir: tempDir(), logger: silentLogger });
    const made = await ca.createKeysAndCertificate();
    expect(made.keyPair.PrivateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const cert = new X509Certificate(made.certificatePem);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(made.keyPair.PublicKey);
    expect(cert.checkPrivateKey(createPrivateKey(made.keyPair.PrivateKey))).toBe(true);
  });

  it('issues a server certificate for localhost and 127.0.0.1 and reuses it while valid', async () => {
    const dir = tempDir();
    const ca = await createCaService({ dir, logger: silentLogger });
    const server = await ca.issueServerCertificate([]);
    const cert = new X509Certificate(server.certPem);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.verify(new X509Certificate(ca.caPem).publicKey)).toBe(true);
    const again = await (await createCaService({ dir, logger: silentLogger })).issueServerCertificate();
    expect(again.certPem).toBe(server.certPem);
  });

  it('reissues the server certificate when a host it lacks is asked for', async () => {
    const ca = await createCaService({ dir: tempDir(), logger: silentLogger });
    const first = await ca.issueServerCertificate();
    const second = await ca.issueServerCertificate(['zonectl.local']);
    expect(second.certPem).not.toBe(first.certPem);
    expect(new X509Certificate(second.certPem).checkHost('zonectl.local')).toBe('zonectl.local');
  });

  it('does not recognise a certificate from another CA', async () => {
    const mine = await createCaService({ dir: tempDir(), logger: silentLogger });
    const foreign = await createCaService({ dir: tempDir(), logger: silentLogger });
    const issued = await foreign.signCsr((await generateKeyAndCsr('device')).csrPem);
    expect(await mine.isIssuedByMe(issued.certificatePem)).toBe(false);
    expect(await mine.isIssuedByMe('not a certificate')).toBe(false);
  });
});
