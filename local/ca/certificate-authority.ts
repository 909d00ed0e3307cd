/**
 * Local certificate authority: the root that stands in for AWS IoT's own CA (which signs
 * device certificates for CreateCertificateFromCsr / CreateKeysAndCertificate) and for the
 * Amazon Root CA that signs the IoT endpoint's server certificate.
 *
 * Follows: AWS IoT Developer Guide, "X.509 client certificates" and "Create an AWS IoT client
 * certificate" (CreateCertificateFromCsr accepts RSA >= 2048 and ECC NIST P-256/P-384/P-521
 * keys; the certificate id is the SHA-256 of the DER certificate; AWS-issued device
 * certificates are valid until 2049-12-31).
 *
 * LIMITATIONS versus AWS:
 * - One self-signed ECDSA P-256 root signs both the server certificate and device
 *   certificates; AWS uses separate Amazon roots and an intermediate chain.
 * - No CRL or OCSP: revocation is enforced by the broker through the registry status.
 * - RegisterCACertificate / bring-your-own-CA is not supported: only this CA is trusted.
 * - The CA private key sits unencrypted in the state dir (mode 0600).
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CA_FILE } from '../../contracts/paths';
import {
  certificateDer,
  certificateIdOf,
  PEM_LABEL,
  pemDecode,
  pemEncode,
  subtle,
  x509,
} from '../../contracts/pki';
import type { LocalLogger } from '../common/log';
import { invalidCsr } from './errors';
import { randomSerial } from './serial';

export const CA_KEY_FILE = 'ca.key.pem';
export const SERVER_CERT_FILE = 'server.pem';
export const SERVER_KEY_FILE = 'server.key.pem';

/** AWS IoT issues device certificates valid until the end of 2049. */
const DEVICE_NOT_AFTER = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
const CA_VALIDITY_YEARS = 20;
const SERVER_VALIDITY_DAYS = 397;
/** Reissue the cached server certificate when it has less than this left. */
const SERVER_RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
/** AWS: CreateCertificateFromCsr's certificateSigningRequest is at most 4096 characters. */
const MAX_CSR_LENGTH = 4096;

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const ACCEPTED_CURVES = new Set(['P-256', 'P-384', 'P-521']);
const MIN_RSA_BITS = 2048;

export interface IssuedCertificate {
  readonly certificatePem: string;
  /** SHA-256 hex of the DER certificate, as AWS IoT computes certificateId. */
  readonly certificateId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface KeysAndCertificate extends IssuedCertificate {
  /** As AWS CreateKeysAndCertificate returns it: SPKI public key, PKCS#1 RSA private key. */
  readonly keyPair: { readonly PublicKey: string; readonly PrivateKey: string };
}

export interface ServerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateAuthority {
  /** PEM of the CA certificate, for clients' trust stores (`--cafile`). */
  readonly caPem: string;
  /** Path of `ca.pem` in the CA directory. */
  readonly caFile: string;
  /** Server certificate for the given host names (localhost and 127.0.0.1 always included); cached in the CA dir. */
  issueServerCertificate(hosts?: readonly string[]): Promise<ServerCertificate>;
  /** Signs a PKCS#10 CSR as CreateCertificateFromCsr does; throws InvalidRequestException for a bad CSR. */
  signCsr(csrPem: string): Promise<IssuedCertificate>;
  /** New RSA-2048 key pair and a certificate for it, as CreateKeysAndCertificate. */
  createKeysAndCertificate(): Promise<KeysAndCertificate>;
  /** True if the certificate (PEM or DER) carries a valid signature of this CA. */
  isIssuedByMe(cert: string | Uint8Array): Promise<boolean>;
}

export interface CertificateAuthorityOptions {
  readonly dir: string;
  readonly logger: LocalLogger;
}

/** Loads the CA from `dir`, creating it (key mode 0600, `ca.pem`) on first start. */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const { dir } = options;
  const logger = options.logger.child('ca');
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, CA_FILE);
  const keyFile = join(dir, CA_KEY_FILE);

  let caCert: x509.X509Certificate;
  let caKey: CryptoKey;
  if (existsSync(caFile) && existsSync(keyFile)) {
    caCert = new x509.X509Certificate(readFileSync(caFile, 'utf8'));
    caKey = await subtle.importKey(
      'pkcs8',
      pemDecode(readFileSync(keyFile, 'utf8'), PEM_LABEL.privateKey),
      EC_ALG,
      false,
      ['sign'],
    );
  } else {
    const keys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(notBefore);
    notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
    caCert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: 'CN=zonectl local IoT CA, O=zonectl local cloud',
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: EC_SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = await subtle.exportKey('pkcs8', keys.privateKey);
    writeFileSync(keyFile, pemEncode(pkcs8, PEM_LABEL.privateKey), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    writeFileSync(caFile, caCert.toString('pem'));
    caKey = keys.privateKey;
    logger.info(`created certificate authority in ${dir}`);
  }
  const caPem = caCert.toString('pem');
  const caPublicKey = caCert.publicKey;
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caPublicKey);

  async function sign(
    subject: string | x509.Name,
    publicKey: CryptoKey,
    notAfter: Date,
    extensions: x509.Extension[],
  ) {
    const notBefore = new Date(Date.now() - 60_000);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      issuer: caCert.subjectName,
      notBefore,
      notAfter,
      publicKey,
      signingKey: caKey,
      signingAlgorithm: EC_SIGNING,
      extensions: [authorityKeyId, await x509.SubjectKeyIdentifierExtension.create(publicKey), ...extensions],
    });
    return cert;
  }

  async function issueDevice(subject: string | x509.Name, publicKey: CryptoKey): Promise<IssuedCertificate> {
    const cert = await sign(subject, publicKey, DEVICE_NOT_AFTER, [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ]);
    const certificatePem = cert.toString('pem');
    return {
      certificatePem,
      certificateId: certificateIdOf(certificatePem),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    };
  }

  async function isIssuedByMe(cert: string | Uint8Array): Promise<boolean> {
    try {
      const parsed = new x509.X509Certificate(certificateDer(cert));
      if (parsed.issuer !== caCert.subject) return false;
      return await parsed.verify({ publicKey: caPublicKey, signatureOnly: true });
    } catch {
      return false;
    }
  }

  async function cachedServerCertificate(hosts: readonly string[]): Promise<ServerCertificate | undefined> {
    const certPath = join(dir, SERVER_CERT_FILE);
    const keyPath = join(dir, SERVER_KEY_FILE);
    if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
    try {
      const certPem = readFileSync(certPath, 'utf8');
      const keyPem = readFileSync(keyPath, 'utf8');
      const cert = new x509.X509Certificate(certPem);
      if (cert.notAfter.getTime() - Date.now() < SERVER_RENEW_BEFORE_MS) return undefined;
      if (!(await isIssuedByMe(certPem))) return undefined;
      const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
      const names = new Set((san?.names.items ?? []).map((n) => n.value));
      if (!hosts.every((h) => names.has(h))) return undefined;
      return { certPem, keyPem };
    } catch {
      return undefined;
    }
  }

  return {
    caPem,
    caFile,
    isIssuedByMe,

    async issueServerCertificate(extraHosts: readonly string[] = []) {
      const hosts = [...new Set(['localhost', '127.0.0.1', ...extraHosts])];
      const cached = await cachedServerCertificate(hosts);
      if (cached) return cached;
      const keys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
      const notAfter = new Date(Date.now() + SERVER_VALIDITY_DAYS * 24 * 3600 * 1000);
      const isIp = (h: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(':');
      const cert = await sign(`CN=${hosts[0]}`, keys.publicKey, notAfter, [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          hosts.map((h) =>
            isIp(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h },
          ),
        ),
      ]);
      const certPem = cert.toString('pem');
      const keyPem = pemEncode(await subtle.exportKey('pkcs8', keys.privateKey), PEM_LABEL.privateKey);
      writeFileSync(join(dir, SERVER_KEY_FILE), keyPem, { mode: 0o600 });
      chmodSync(join(dir, SERVER_KEY_FILE), 0o600);
      writeFileSync(join(dir, SERVER_CERT_FILE), certPem);
      logger.info(`issued server certificate for ${hosts.join(', ')}`);
      return { certPem, keyPem };
    },

    async signCsr(csrPem: string) {
      const publicKey = await checkCsr(csrPem);
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      return issueDevice(csr.subject.trim() === '' ? 'CN=AWS IoT Certificate' : csr.subjectName, publicKey);
    },

    async createKeysAndCertificate() {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      });
      const key = await subtle.importKey(
        'spki',
        pemDecode(publicKey, 'PUBLIC KEY'),
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        true,
        ['verify'],
      );
      const issued = await issueDevice('CN=AWS IoT Certificate', key);
      return { ...issued, keyPair: { PublicKey: publicKey, PrivateKey: privateKey } };
    },
  };
}

/** Parses and checks a CSR as CreateCertificateFromCsr does; returns its public key. */
async function checkCsr(csrPem: string): Promise<CryptoKey> {
  if (typeof csrPem !== 'string' || csrPem.trim() === '') {
    throw invalidCsr('certificateSigningRequest is required');
  }
  if (csrPem.length > MAX_CSR_LENGTH) {
    throw invalidCsr(`certificateSigningRequest is longer than ${MAX_CSR_LENGTH} characters`);
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw invalidCsr('The certificate signing request is not a valid PEM-encoded PKCS#10 request');
  }
  const alg = csr.publicKey.algorithm as { name?: string; namedCurve?: string; modulusLength?: number };
  if (alg.name === 'ECDSA' || alg.name === 'ECDH') {
    if (!alg.namedCurve || !ACCEPTED_CURVES.has(alg.namedCurve)) {
      throw invalidCsr(
        `Unsupported ECC curve ${alg.namedCurve ?? 'unknown'}: use NIST P-256, P-384 or P-521`,
      );
    }
  } else if (alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS' || alg.name === 'RSA-OAEP') {
    if ((alg.modulusLength ?? 0) < MIN_RSA_BITS) {
      throw invalidCsr(
        `RSA key of ${alg.modulusLength ?? 0} bits is too short: use at least ${MIN_RSA_BITS} bits`,
      );
    }
  } else {
    throw invalidCsr(
      `Unsupported public key algorithm ${alg.name ?? 'unknown'}: use RSA (>= 2048 bits) or ECC`,
    );
  }
  let valid = false;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw invalidCsr('The certificate signing request signature is not valid');
  try {
    return await csr.publicKey.export();
  } catch {
    throw invalidCsr('The public key of the certificate signing request cannot be read');
  }
}
