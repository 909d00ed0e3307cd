export { createCaService } from './service';
export { CaStateError } from './store';
export type {
  CaService,
  CaServiceOptions,
  IssuedCertificate,
  KeysAndCertificate,
  ServerCertificate,
} from './types';
