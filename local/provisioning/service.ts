/**
 * The local fleet provisioning service: provisioning templates on the `iot` control plane
 * (./route, ./templates), the template engine (./engine), and the device provisioning MQTT API
 * on the broker's bus (./mqtt), with the pre-provisioning hook run by the local Lambda. Its
 * own state (templates, ownership tokens) is in its own store (./store); things, certificates
 * and policies are the IoT registry's, changed through the registry's API.
 *
 * Follows the AWS IoT Developer Guide: "Provisioning templates", "Pre-provisioning hooks",
 * "Device provisioning MQTT API", "Provisioning devices that don't have device certificates
 * using fleet provisioning"; and the AWS IoT API Reference pages of the template operations.
 * See README.md for the limitations.
 */
import { errorText } from '../common';
import { createMqttApi, REQUEST_FILTERS, sweepExpired } from './mqtt';
import { createProvisioningRoute } from './route';
import { ProvisioningStore } from './store';
import { createTemplates } from './templates';
import type { ProvisioningService, ProvisioningServiceOptions } from './types';

/** AWS: a certificate ownership token expires after one hour. */
export const TOKEN_TTL_MS = 60 * 60_000;
/**
 * AWS: the hook must answer within 5 seconds. Locally a function's first instance is a child
 * process that takes seconds to start on a busy laptop (Lambda's own cold start is far
 * shorter), so the local budget adds 10 s for that start: a hook that runs longer than 5 s
 * once warm still passes locally and would fail on AWS.
 */
export const HOOK_TIMEOUT_MS = 15_000;
const SWEEP_EVERY_MS = 60_000;

export async function createProvisioningService(
  options: ProvisioningServiceOptions,
): Promise<ProvisioningService> {
  const log = options.logger.child('provisioning');
  const now = options.now ?? Date.now;
  const store = ProvisioningStore.open(options.stateDir, log);
  const templates = createTemplates(store, options.identity, now);
  const onRequest = createMqttApi({
    bus: options.bus,
    registry: options.registry,
    store,
    templates,
    invokeHook: options.invokeHook,
    identity: options.identity,
    log,
    now,
    tokenTtlMs: options.tokenTtlMs ?? TOKEN_TTL_MS,
    hookTimeoutMs: options.hookTimeoutMs ?? HOOK_TIMEOUT_MS,
  });
  const pending = new Set<Promise<void>>();
  const unsubscribe = REQUEST_FILTERS.map((filter) =>
    options.bus.subscribe(filter, (message) => {
      const work = onRequest(message).catch((err) =>
        log.error(`provisioning request failed: ${errorText(err)}`),
      );
      pending.add(work);
      void work.finally(() => pending.delete(work));
    }),
  );
  const sweep = () => sweepExpired(store, options.registry, now(), log);
  sweep();
  const timer = setInterval(sweep, SWEEP_EVERY_MS);
  timer.unref();

  return {
    route: createProvisioningRoute(templates),
    templates,
    sweep,
    async close() {
      clearInterval(timer);
      for (const u of unsubscribe) u();
      await Promise.allSettled([...pending]);
    },
  };
}
