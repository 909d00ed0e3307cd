import type { LocalLogger } from '../common';

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

export interface CaServiceOptions {
  /** Where the CA's key and certificates live; created on first start. */
  readonly dir: string;
  readonly logger: LocalLogger;
}

export interface CaService {
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
  /** Nothing to release (keys live in memory and files); here for the common service shape. */
  close(): Promise<void>;
}
