/**
 * The local AWS IoT Core control plane: the registry (durable, in the state dir), the `iot`
 * API route for the gateway, and the PrincipalDirectory the broker authenticates against.
 * See README.md for what it emulates and its limitations.
 */
import { DEFAULT_IDENTITY } from '../common';
import { IotRegistry } from './registry';
import { createIotRoute } from './route';
import type { IotService, IotServiceOptions } from './types';

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
    route: createIotRoute(registry),
    directory: registry,
    registry,
    close: () => registry.close(),
  };
}
