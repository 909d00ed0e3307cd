export { createCaService } from './service';
export type {
  CaService,
  CaServiceOptions,
  IssuedCertificate,
  KeysAndCertificate,
  ServerCertificate,
} from './types';
