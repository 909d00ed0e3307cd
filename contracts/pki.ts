/**
 * Keys, certificate signing requests, PEM and certificate ids: the one implementation every
 * layer uses (onboarding, the device, the local CA and broker, tests).
 *
 * - Keys are made with Node's WebCrypto and CSRs with @peculiar/x509 (no openssl). ECC P-256 is
 *   the default: AWS IoT's CreateCertificateFromCsr accepts RSA 2048 or larger and ECC P-256,
 *   P-384 and P-521 (AWS IoT API Reference, "CreateCertificateFromCsr").
 * - A certificate id is the lower-case hex SHA-256 of the DER certificate, as AWS IoT names
 *   certificates (AWS IoT Developer Guide, "X.509 client certificates").
 * @peculiar/x509 needs a Reflect metadata polyfill, imported here before it loads.
 */
import 'reflect-metadata';
import { createHash, createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
export const subtle = webcrypto.subtle as unknown as SubtleCrypto;

export const PEM_LABEL = {
  certificate: 'CERTIFICATE',
  csr: 'CERTIFICATE REQUEST',
  privateKey: 'PRIVATE KEY',
} as const;

/** Key types a CSR can be made with; RSA-1024 exists to test refusals of weak keys. */
export type KeyKind = 'P-256' | 'P-384' | 'P-521' | 'RSA-2048' | 'RSA-1024';

export function pemEncode(der: ArrayBuffer | Uint8Array, label: string): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  const lines =
    Buffer.from(bytes)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** DER bytes of the first PEM block with this label; throws naming the label when there is none. */
export function pemDecode(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`);
  const match = re.exec(pem);
  if (!match?.[1]) throw new Error(`no PEM block ${label} found`);
  return new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
}

/** DER bytes of the first certificate in a PEM string, or the bytes themselves. */
export function certificateDer(cert: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return typeof cert === 'string' ? pemDecode(cert, PEM_LABEL.certificate) : new Uint8Array(cert);
}

/** AWS IoT certificate id: lower-case hex SHA-256 of the DER certificate. */
export function certificateIdOf(cert: string | Uint8Array): string {
  return createHash('sha256').update(certificateDer(cert)).digest('hex');
}

export interface KeyAndCsr {
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** PKCS#10 PEM with subject CN=<commonName>. */
  readonly csrPem: string;
  readonly publicKey: CryptoKey;
}

/** A fresh key pair of `kind` and a CSR for `CN=<commonName>` signed with it. */
export async function generateKeyAndCsr(commonName: string, kind: KeyKind = 'P-256'): Promise<KeyAndCsr> {
  const rsaBits = kind === 'RSA-2048' ? 2048 : kind === 'RSA-1024' ? 1024 : 0;
  const algorithm = rsaBits
    ? {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: rsaBits,
      }
    : { name: 'ECDSA', namedCurve: kind };
  const keys = (await subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: rsaBits ? algorithm : { name: 'ECDSA', hash: 'SHA-256' },
  });
  const pkcs8 = await subtle.exportKey('pkcs8', keys.privateKey);
  return {
    privateKeyPem: pemEncode(pkcs8, PEM_LABEL.privateKey),
    csrPem: csr.toString('pem'),
    publicKey: keys.publicKey,
  };
}

/** DER SubjectPublicKeyInfo of a PEM private key. */
export function publicKeyOfPrivateKey(privateKeyPem: string): Buffer {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
}

/** True when the certificate certifies the public half of this private key. */
export function certificateMatchesKey(certificatePem: string, privateKeyPem: string): boolean {
  const certKey = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return certKey.equals(publicKeyOfPrivateKey(privateKeyPem));
}

/** Subject of a CSR, for checks ("CN=..."). */
export function csrSubject(csrPem: string): string {
  return new x509.Pkcs10CertificateRequest(csrPem).subject;
}
