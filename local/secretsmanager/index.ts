export { createSecretsManagerService } from './service';
export type * from './types';
