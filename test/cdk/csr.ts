// @peculiar/x509 needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A CSR for `thing` from a fresh EC P-256 key, as onboarding would write it. */
export async function makeCsr(thing: string): Promise<string> {
  x509.cryptoProvider.set(webcrypto as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${thing}`,
    keys,
    signingAlgorithm: alg,
  });
  return csr.toString('pem');
}
