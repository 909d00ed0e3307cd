/**
 * Lambda started on first use: the same LambdaService, whose code (pools, the async invoker,
 * the runtime's SDK link) loads when the first Invoke or management request, event, deploy or
 * in-process call needs it, not when the cloud starts. The route matches requests without it
 * (./request); the request that starts it waits for it.
 *
 * A dir with functions or queued asynchronous events starts Lambda at once, as before: the
 * queued events are retried, and damaged state stops the start naming the file.
 *
 * Until Lambda has started there are no functions: `listFunctions()` and `describeFunctions()`
 * answer empty lists and `drainAsync()` has nothing to wait for, without starting it.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Deferred, deferredRoute } from '../common';
import { ASYNC_QUEUE_FILE } from './async-queue';
import { LAMBDA_ROUTE } from './request';
import { FUNCTIONS_FILE } from './store';
import type { LambdaService, LambdaServiceOptions } from './types';

/** Functions were deployed, or asynchronous events were queued (the log is made empty at start). */
function hasState(dir: string): boolean {
  if (existsSync(join(dir, FUNCTIONS_FILE))) return true;
  try {
    return statSync(join(dir, ASYNC_QUEUE_FILE)).size > 0;
  } catch {
    return false;
  }
}

export async function deferLambdaService(options: LambdaServiceOptions): Promise<LambdaService> {
  const service = new Deferred<LambdaService>(
    async () => (await import('./service')).createLambdaService(options),
    (s) => s.close(),
  );
  if (hasState(options.dir)) await service.get();
  return {
    route: deferredRoute(LAMBDA_ROUTE, async () => (await service.get()).route),
    createFunction: async (definition) => (await service.get()).createFunction(definition),
    deleteFunction: async (arnOrName) => (await service.get()).deleteFunction(arnOrName),
    invoke: async (arnOrName, payload, invocationType) =>
      (await service.get()).invoke(arnOrName, payload, invocationType),
    listFunctions: () => service.current?.listFunctions() ?? [],
    describeFunctions: () => service.current?.describeFunctions() ?? [],
    drainAsync: async () => service.current?.drainAsync(),
    close: () => service.close(),
  };
}
