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
import { certificateDer, certificateIdOf, pemDecode, subtle, x509 } from '../../contracts/pki';
import { checkCsr } from './csr';
import { randomSerial } from './serial';
import { cachedServerCertificate, EC_ALG, EC_SIGNING, openCaRoot, saveServerCertificate } from './store';
import type { CaService, CaServiceOptions, IssuedCertificate } from './types';

/** AWS IoT issues device certificates valid until the end of 2049. */
const DEVICE_NOT_AFTER = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
const SERVER_VALIDITY_DAYS = 397;

/** Extensions of a TLS certificate that is not a CA, for client or server authentication. */
const endEntity = (usage: x509.ExtendedKeyUsageType): x509.Extension[] => [
  new x509.BasicConstraintsExtension(false, undefined, true),
  new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
  new x509.ExtendedKeyUsageExtension([usage]),
];

/** Loads the CA from `dir`, creating it on first start. */
export async function createCaService(options: CaServiceOptions): Promise<CaService> {
  const { dir } = options;
  const logger = options.logger.child('ca');
  const { caFile, certificate: caCert, privateKey: caKey } = await openCaRoot(dir, logger);
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
    const cert = await sign(
      subject,
      publicKey,
      DEVICE_NOT_AFTER,
      endEntity(x509.ExtendedKeyUsage.clientAuth),
    );
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

  return {
    caPem,
    caFile,
    isIssuedByMe,

    async issueServerCertificate(extraHosts: readonly string[] = []) {
      const hosts = [...new Set(['localhost', '127.0.0.1', ...extraHosts])];
      const cached = await cachedServerCertificate(dir, hosts, isIssuedByMe, (reason) =>
        logger.warn(`the cached server certificate cannot be used: ${reason}; issuing a new one`),
      );
      if (cached) return cached;
      const keys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
      const notAfter = new Date(Date.now() + SERVER_VALIDITY_DAYS * 24 * 3600 * 1000);
      const isIp = (h: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(':');
      const cert = await sign(`CN=${hosts[0]}`, keys.publicKey, notAfter, [
        ...endEntity(x509.ExtendedKeyUsage.serverAuth),
        new x509.SubjectAlternativeNameExtension(
          hosts.map((h) =>
            isIp(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h },
          ),
        ),
      ]);
      const issued = saveServerCertificate(
        dir,
        cert.toString('pem'),
        await subtle.exportKey('pkcs8', keys.privateKey),
      );
      logger.info(`issued server certificate for ${hosts.join(', ')}`);
      return issued;
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

    async close() {},
  };
}
