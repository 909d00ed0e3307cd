export {
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  createCertificateAuthority,
  type IssuedCertificate,
  type KeysAndCertificate,
  type ServerCertificate,
} from './certificate-authority';
