/** @deprecated The CA's factory is createCaService; this name is kept for its importers. */
export { createCaService, createCaService as createCertificateAuthority } from './service';
export type {
  CaService,
  CaServiceOptions,
  CertificateAuthority,
  CertificateAuthorityOptions,
  IssuedCertificate,
  KeysAndCertificate,
  ServerCertificate,
} from './types';
