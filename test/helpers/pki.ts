/**
 * A throwaway CA for tests that need certificates without the local cloud's CA: a server
 * certificate for localhost and device certificates signed from CSRs. Keys, CSRs and PEM come
 * from contracts/pki.ts, as everywhere else.
 */
import { generateKeyAndCsr, PEM_LABEL, pemEncode, subtle, x509 } from '../../contracts/pki';

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface TestPki {
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** Signs a device CSR. */
  sign(csrPem: string): Promise<string>;
  /** A device key and its certificate. */
  device(thing: string): Promise<{ privateKeyPem: string; certificatePem: string }>;
}

export async function createTestPki(): Promise<TestPki> {
  const caKeys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=zonectl test CA',
    keys: caKeys,
    notBefore,
    notAfter,
    signingAlgorithm: EC_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const serverKeys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const server = await x509.X509CertificateGenerator.create({
    subject: 'CN=localhost',
    issuer: ca.subject,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore,
    notAfter,
    signingAlgorithm: EC_SIGNING,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const sign = async (csrPem: string) => {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    const cert = await x509.X509CertificateGenerator.create({
      subject: csr.subject,
      issuer: ca.subject,
      publicKey: await csr.publicKey.export(),
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: EC_SIGNING,
      extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
    });
    return cert.toString('pem');
  };
  return {
    caPem: ca.toString('pem'),
    serverCertPem: server.toString('pem'),
    serverKeyPem: pemEncode(await subtle.exportKey('pkcs8', serverKeys.privateKey), PEM_LABEL.privateKey),
    sign,
    async device(thing) {
      const key = await generateKeyAndCsr(thing);
      return { privateKeyPem: key.privateKeyPem, certificatePem: await sign(key.csrPem) };
    },
  };
}
