/**
 * Timestream for InfluxDB started on first use: the same InfluxDbService, whose code (the
 * InfluxDB 2 API, line protocol, InfluxQL) loads when the first control-plane request, deploy
 * or in-process call needs it, not when the cloud starts. The control route matches requests
 * by their target prefix alone; the request that starts the service waits for it.
 *
 * A dir with instances starts the service at once, as before: each instance's HTTPS API
 * listens from the start, and damaged state stops the start naming the file.
 *
 * Until the service has started there are no instances: `listInstances()` answers an empty
 * list without starting it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Deferred, deferredRoute } from '../common';
import { CONTROL_ROUTE, INSTANCES_FILE, type InfluxDbService, type InfluxDbServiceOptions } from './types';

export async function deferInfluxDbService(options: InfluxDbServiceOptions): Promise<InfluxDbService> {
  const service = new Deferred<InfluxDbService>(
    async () => (await import('./service')).createInfluxDbService(options),
    (s) => s.close(),
  );
  if (existsSync(join(options.dir, INSTANCES_FILE))) await service.get();
  return {
    controlRoute: deferredRoute(CONTROL_ROUTE, async () => (await service.get()).controlRoute),
    createInstance: async (input) => (await service.get()).createInstance(input),
    deleteInstance: async (name) => (await service.get()).deleteInstance(name),
    listInstances: () => service.current?.listInstances() ?? [],
    close: () => service.close(),
  };
}
