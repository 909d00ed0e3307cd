export { createStsService } from './service';
export type { StsService, StsServiceOptions } from './types';
