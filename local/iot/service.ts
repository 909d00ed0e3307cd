/**
 * The local AWS IoT Core control plane: the registry (durable, in the state dir), the `iot`
 * API route for the gateway, and the PrincipalDirectory the broker authenticates against.
 * See registry.ts and control-plane.ts for the LIMITATIONS versus AWS.
 */
import type { CaService } from '../ca';
import { type CloudIdentity, DEFAULT_IDENTITY } from '../common/account';
import type { LocalLogger } from '../common/log';
import type { ServiceRoute } from '../gateway/types';
import { createControlPlaneRoute } from './control-plane';
import { IotRegistry } from './registry';
import type { PrincipalDirectory } from './types';

export interface IotServiceOptions {
  /** The local cloud's state dir; the registry lives in `<stateDir>/iot/`. */
  readonly stateDir: string;
  readonly ca: CaService;
  readonly identity?: CloudIdentity;
  readonly logger: LocalLogger;
  /** Host DescribeEndpoint returns (kept from its first call); default `localhost`. */
  readonly endpointAddress?: string;
  /** Optional SQL check for CreateTopicRule / ReplaceTopicRule: an error message means SqlParseException. */
  readonly validateRuleSql?: (sql: string, version: string) => string | undefined;
}

export interface IotService {
  /** The `iot` rest-json API, for createGatewayService's routes. */
  readonly route: ServiceRoute;
  /** Read side for the broker: certificates, attached things and policies, change events. */
  readonly directory: PrincipalDirectory;
  /** Typed API for in-process callers (deployer, tests). Throws AwsServiceError like the HTTP API. */
  readonly registry: IotRegistry;
  close(): Promise<void>;
}

export async function createIotService(options: IotServiceOptions): Promise<IotService> {
  const registry = IotRegistry.open({
    stateDir: options.stateDir,
    ca: options.ca,
    identity: options.identity ?? DEFAULT_IDENTITY,
    logger: options.logger,
    ...(options.endpointAddress ? { endpointAddress: options.endpointAddress } : {}),
    ...(options.validateRuleSql ? { validateRuleSql: options.validateRuleSql } : {}),
  });
  return {
    route: createControlPlaneRoute(registry),
    directory: registry,
    registry,
    close: async () => {},
  };
}
