import type { StorageEngine } from '../contracts';
import type { FunctionNetwork, HandlerFunction } from './handler-function';

/**
 * What the ingest pipeline needs from the construct that stores readings, whichever the
 * engine: a grant that lets a function write and tells it where, and (for an engine inside a
 * VPC) where that function must run.
 */
export interface ReadingsStore {
  readonly engine: StorageEngine;
  /** The function must run here to reach the store. @default - outside any VPC */
  readonly functionNetwork?: FunctionNetwork;
  grantWriteTo(handler: HandlerFunction): void;
}
