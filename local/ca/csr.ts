/**
 * The checks CreateCertificateFromCsr makes on a certificate signing request (AWS IoT API
 * Reference, "CreateCertificateFromCsr": the request is at most 4096 characters; AWS IoT
 * Developer Guide, "X.509 client certificates": RSA keys of 2048 bits or more, or ECC keys on
 * NIST P-256, P-384 or P-521).
 */
import { x509 } from '../../contracts/pki';
import { invalidCsr } from './errors';

/** AWS: CreateCertificateFromCsr's certificateSigningRequest is at most 4096 characters. */
const MAX_CSR_LENGTH = 4096;
const ACCEPTED_CURVES = new Set(['P-256', 'P-384', 'P-521']);
const MIN_RSA_BITS = 2048;

/** Parses and checks a CSR as CreateCertificateFromCsr does; returns its public key. */
export async function checkCsr(csrPem: string): Promise<CryptoKey> {
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
