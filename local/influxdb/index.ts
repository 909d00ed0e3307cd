export { parseLineProtocol } from './line-protocol';
export { createInfluxDbService } from './service';
export type * from './types';
