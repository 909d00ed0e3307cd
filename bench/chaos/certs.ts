/**
 * Client certificates the registry would never hand out, signed with a local CA's own key from
 * its state dir: one whose validity ended in the past. For the abuse suite and the broker tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CA_FILE } from '../../contracts/paths';
import { certificateIdOf, PEM_LABEL, pemDecode, pemEncode, subtle, x509 } from '../../contracts/pki';
import { CA_KEY_FILE, EC_ALG, EC_SIGNING } from '../../local/ca/store';

export interface SignedCertificate {
  readonly certificatePem: string;
  readonly keyPem: string;
  readonly certificateId: string;
}

/** Signs a client certificate for `commonName` with the CA in `caDir`, valid from `notBefore` to `notAfter`. */
export async function signClientCertificate(
  caDir: string,
  commonName: string,
  notBefore: Date,
  notAfter: Date,
): Promise<SignedCertificate> {
  const ca = new x509.X509Certificate(readFileSync(join(caDir, CA_FILE), 'utf8'));
  const caKey = await subtle.importKey(
    'pkcs8',
    pemDecode(readFileSync(join(caDir, CA_KEY_FILE), 'utf8'), PEM_LABEL.privateKey),
    EC_ALG,
    false,
    ['sign'],
  );
  const keys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Date.now().toString(16).padStart(16, '0'),
    subject: `CN=${commonName}`,
    issuer: ca.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: EC_SIGNING,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  const certificatePem = cert.toString('pem');
  return {
    certificatePem,
    keyPem: pemEncode(await subtle.exportKey('pkcs8', keys.privateKey), PEM_LABEL.privateKey),
    certificateId: certificateIdOf(certificatePem),
  };
}

/** A certificate whose validity ended a day ago (it began two days ago). */
export const signExpiredCertificate = (caDir: string, commonName: string) =>
  signClientCertificate(
    caDir,
    commonName,
    new Date(Date.now() - 2 * 86_400_000),
    new Date(Date.now() - 86_400_000),
  );
