export { DEFAULT_RETENTION } from './catalog';
export { createTimestreamService } from './service';
export { DATABASE_FILE } from './store';
export type * from './types';
