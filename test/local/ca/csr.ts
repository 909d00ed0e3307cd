/** Makes device key pairs and PKCS#10 CSRs the way an operator's machine would, for tests. */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyKind = 'P-256' | 'P-384' | 'P-521' | 'RSA-2048' | 'RSA-1024';

export interface DeviceCsr {
  readonly csrPem: string;
  readonly privateKeyPem: string;
  readonly publicKey: CryptoKey;
}

export async function makeCsr(kind: KeyKind = 'P-256', commonName = 'device'): Promise<DeviceCsr> {
  const rsaBits = kind === 'RSA-2048' ? 2048 : kind === 'RSA-1024' ? 1024 : 0;
  const alg = rsaBits
    ? {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: rsaBits,
      }
    : { name: 'ECDSA', namedCurve: kind };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: rsaBits ? alg : { name: 'ECDSA', hash: 'SHA-256' },
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { csrPem: csr.toString('pem'), privateKeyPem, publicKey: keys.publicKey };
}

/** The same CSR with one byte of its signature flipped. */
export function tamperSignature(csrPem: string): string {
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const last = der.length - 5;
  der[last] = (der[last] ?? 0) ^ 0xff;
  const b64 = der
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`;
}
