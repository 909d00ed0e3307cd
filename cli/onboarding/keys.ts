/**
 * Device key pair and certificate signing request, made on the operator's machine with
 * @peculiar/x509 over Node's WebCrypto (no openssl). ECC P-256, which AWS IoT's
 * CreateCertificateFromCsr accepts; the private key never leaves this machine except in the
 * device bundle.
 */
import 'reflect-metadata';
import { createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const subtle = webcrypto.subtle as unknown as SubtleCrypto;

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface DeviceKeyMaterial {
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** PKCS#10 PEM with subject CN=<thing>. */
  readonly csrPem: string;
}

function pem(der: ArrayBuffer, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export async function generateDeviceKey(thing: string): Promise<DeviceKeyMaterial> {
  const keys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${thing}`,
    keys,
    signingAlgorithm: EC_SIGNING,
  });
  const pkcs8 = await subtle.exportKey('pkcs8', keys.privateKey);
  return { privateKeyPem: pem(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
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

/** Subject common name of a CSR, for checks. */
export function csrSubject(csrPem: string): string {
  return new x509.Pkcs10CertificateRequest(csrPem).subject;
}

export { x509 };
