import type { CloudIdentity } from '../common';
import type { ServiceRoute } from '../gateway';

export interface StsServiceOptions {
  /** The account and Region the local cloud plays. */
  readonly identity: CloudIdentity;
}

export interface StsService {
  /** The `sts` route: GetCallerIdentity. */
  readonly route: ServiceRoute;
}
