export { DEFAULT_RETENTION } from './catalog';
export { deferTimestreamService } from './deferred';
export { createTimestreamService } from './service';
export type * from './types';
export { DATABASE_FILE } from './types';
