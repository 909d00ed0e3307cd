/**
 * Local AWS Lambda: runs the bundled Node.js assets of the cloud assembly in child processes,
 * one per execution environment, with the function's environment plus endpoints and
 * throwaway credentials that point its SDK clients at the local API.
 *
 * Follows the Lambda Developer Guide: "Lambda execution environment lifecycle" (Init once per
 * instance, warm reuse), "Defined runtime environment variables", "Define Lambda function
 * handler in Node.js" (async and callback handlers, context object), "Configure Lambda
 * function timeout", "Invoking a Lambda function asynchronously" (two retries, destinations,
 * dead-letter queues).
 *
 * LIMITATIONS versus AWS:
 * - Node.js runtimes only, run on the local Node version (Lambda's nodejs22.x runs Node 22);
 *   the runtime name only sets AWS_EXECUTION_ENV. No layers, container images, versions or
 *   aliases ($LATEST only), no SnapStart, no provisioned concurrency.
 * - Isolation is a separate OS process with its own environment, not a microVM: memory size
 *   is reported, not enforced; the file system is shared (HOME and TMPDIR point at a private
 *   directory under the state dir).
 * - Concurrency is a per-function cap (default 4); calls past it wait instead of being
 *   throttled with TooManyRequestsException.
 * - Asynchronous events wait in a durable, bounded queue (./async-invoker): they survive a
 *   restart; at 10,000 events of one function (configurable) Invoke answers
 *   TooManyRequestsException. Destinations and DLQs must be SQS queues.
 * - Functions are kept in `<dir>/functions.json` with their staged code and run again after a
 *   restart; a deploy replaces them.
 * - Management API read-only, $LATEST only (see management.ts).
 * - The AWS SDK the runtime provides (runtime-modules.ts) is the project's version, not the one
 *   the managed runtime ships.
 * - No CloudWatch Logs: handler output goes to the local log, prefixed with the function name.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { AsyncInvoker } from './async-invoker';
import { functionNotFound } from './errors';
import { FunctionPool, POOL_RETIRED } from './pool';
import { createLambdaRoute } from './route';
import { provideRuntimeModules } from './runtime-modules';
import { FunctionStore } from './store';
import { codeDigest, stageTaskRoot } from './task-root';
import type {
  FunctionDefinition,
  FunctionInfo,
  InvocationType,
  InvokeResult,
  LambdaService,
  LambdaServiceOptions,
} from './types';

/** Service ids whose `AWS_ENDPOINT_URL_<ID>` variables the SDK reads (serviceId upper-cased, spaces to `_`). */
const ENDPOINT_SERVICE_IDS = [
  'SQS',
  'TIMESTREAM_WRITE',
  'TIMESTREAM_QUERY',
  'IOT',
  'IOT_DATA_PLANE',
  'SECRETS_MANAGER',
  'TIMESTREAM_INFLUXDB',
  'LAMBDA',
  'CLOUDWATCH',
  'STS',
];

export async function createLambdaService(options: LambdaServiceOptions): Promise<LambdaService> {
  const logger = options.logger;
  const region = options.region ?? options.identity.region;
  const functions = new Map<string, { def: FunctionDefinition; pool: FunctionPool; info: FunctionInfo }>();
  const now = options.now ?? Date.now;
  mkdirSync(options.dir, { recursive: true });
  const runtimeModules = provideRuntimeModules(join(options.dir, 'runtime'));
  let closed = false;

  const environmentFor = (def: FunctionDefinition): Record<string, string> => {
    const home = join(options.dir, def.functionName);
    const tmp = join(home, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const endpoints: Record<string, string> = { AWS_ENDPOINT_URL: options.apiEndpoint };
    for (const id of ENDPOINT_SERVICE_IDS) endpoints[`AWS_ENDPOINT_URL_${id}`] = options.apiEndpoint;
    return {
      ...def.environment,
      ...endpoints,
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      HOME: home,
      TMPDIR: tmp,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      AWS_SECRET_ACCESS_KEY: randomBytes(20).toString('base64'),
      AWS_SESSION_TOKEN: randomBytes(32).toString('base64'),
      AWS_LAMBDA_FUNCTION_NAME: def.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(def.memoryMb ?? 128),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${def.functionName}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_${def.runtime}`,
      LAMBDA_TASK_ROOT: def.codeDir,
      LAMBDA_RUNTIME_DIR: def.codeDir,
      // The managed runtime's NODE_PATH ends with its own modules (the AWS SDK) and the task root.
      NODE_PATH: [runtimeModules, def.codeDir].join(delimiter),
      _HANDLER: def.handler,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NODE_OPTIONS: '',
      ...(options.extraCaFile ? { NODE_EXTRA_CA_CERTS: options.extraCaFile } : {}),
    };
  };

  const find = (arnOrName: string) => {
    // Name, unqualified ARN, qualified ARN (:$LATEST) or partial ARN (account:function:name).
    const m = /(?:^|:)function:([^:]+)(?::[^:]+)?$/.exec(arnOrName);
    const name = m ? m[1]! : arnOrName;
    return functions.get(name);
  };

  const invokeSync = async (
    def: FunctionDefinition,
    payload: unknown,
    requestId: string,
  ): Promise<InvokeResult> => {
    const context = {
      functionName: def.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: def.arn,
      memoryLimitInMB: String(def.memoryMb ?? 128),
      logGroupName: `/aws/lambda/${def.functionName}`,
    };
    let outcome: Awaited<ReturnType<FunctionPool['invoke']>>;
    for (let attempt = 0; ; attempt++) {
      const entry = functions.get(def.functionName);
      if (!entry) throw functionNotFound(def.arn);
      outcome = await entry.pool.invoke(requestId, payload, context);
      // A call that waited on a pool replaced by a redeploy runs on the new code instead.
      const replaced = functions.get(def.functionName)?.pool !== entry.pool;
      if (outcome.ok || outcome.error.errorType !== POOL_RETIRED || !replaced || attempt > 0) break;
    }
    if (outcome.ok) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(outcome.payload);
      } catch {
        parsed = outcome.payload;
      }
      return {
        statusCode: 200,
        requestId,
        executedVersion: '$LATEST',
        payload: parsed,
        rawPayload: outcome.payload,
      };
    }
    logger.warn(
      `${def.functionName} invocation ${requestId} failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`,
    );
    return {
      statusCode: 200,
      requestId,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
      payload: outcome.error,
      rawPayload: JSON.stringify(outcome.error),
    };
  };

  const maxInstances = (def: FunctionDefinition) =>
    def.reservedConcurrency ?? options.maxInstancesPerFunction ?? 4;
  const asyncInvoker = AsyncInvoker.open({
    logger,
    dir: options.dir,
    lookup: (name) => functions.get(name)?.def,
    invokeSync,
    ...(options.sendToQueue ? { sendToQueue: options.sendToQueue } : {}),
    retryDelaysMs: options.asyncRetryDelaysMs ?? [60_000, 120_000],
    concurrency: maxInstances,
    ...(options.maxQueuedEventsPerFunction !== undefined
      ? { maxQueuedPerFunction: options.maxQueuedEventsPerFunction }
      : {}),
  });
  const store = new FunctionStore(options.dir, logger);

  /** Starts (or replaces) the execution environments of a staged function; true if it replaced one. */
  const install = (def: FunctionDefinition, stamp: { lastModified: string; revisionId: string }): boolean => {
    const previous = functions.get(def.functionName);
    const pool = new FunctionPool(def, environmentFor(def), logger, {
      maxInstances: maxInstances(def),
      idleTimeoutMs: options.idleTimeoutMs ?? 5 * 60_000,
    });
    const info: FunctionInfo = { definition: def, ...stamp, ...codeDigest(def.codeDir) };
    functions.set(def.functionName, { def, pool, info });
    previous?.pool.retire();
    return previous !== undefined;
  };

  // The functions deployed before the last stop run again, from their staged code.
  for (const { definition, lastModified, revisionId } of store.all()) {
    if (!existsSync(definition.codeDir)) {
      logger.warn(
        `function ${definition.functionName} is not restored: its staged code ${definition.codeDir} is gone; deploy again`,
      );
      continue;
    }
    install(definition, { lastModified, revisionId });
  }
  if (functions.size > 0)
    logger.info(`restored ${functions.size} function(s): ${[...functions.keys()].join(', ')}`);
  asyncInvoker.start();

  const service: Omit<LambdaService, 'route'> = {
    async createFunction(definition) {
      if (closed) throw new Error('the Lambda service is closed');
      if (!definition.runtime.startsWith('nodejs')) {
        throw new Error(
          `function ${definition.functionName}: runtime ${definition.runtime} is not emulated (Node.js runtimes only)`,
        );
      }
      if (!existsSync(definition.codeDir)) {
        throw new Error(
          `function ${definition.functionName}: code directory ${definition.codeDir} does not exist; synthesize the app again (npx cdk synth)`,
        );
      }
      const codeDir = stageTaskRoot(definition.codeDir, join(options.dir, 'tasks'), definition.functionName);
      const def = { ...definition, codeDir };
      const stamp = { lastModified: lambdaTimestamp(now()), revisionId: randomUUID() };
      store.put(def, stamp);
      const replaced = install(def, stamp);
      logger.info(
        `function ${def.functionName} ${replaced ? 'replaced' : 'created'} (${def.handler}, ${def.codeDir})`,
      );
    },
    async deleteFunction(arnOrName) {
      const entry = find(arnOrName);
      if (!entry) throw functionNotFound(arnOrName);
      functions.delete(entry.def.functionName);
      store.remove(entry.def.functionName);
      entry.pool.retire();
    },
    async invoke(arnOrName, payload, invocationType: InvocationType = 'RequestResponse') {
      const entry = find(arnOrName);
      if (!entry) throw functionNotFound(arnOrName);
      const requestId = randomUUID();
      if (invocationType === 'Event') {
        await asyncInvoker.enqueue(entry.def.functionName, payload, requestId);
        return { statusCode: 202, requestId, executedVersion: '$LATEST', payload: null, rawPayload: '' };
      }
      return invokeSync(entry.def, payload, requestId);
    },
    listFunctions: () =>
      [...functions.values()].map(({ def, pool }) => ({
        functionName: def.functionName,
        arn: def.arn,
        instances: pool.size,
      })),
    describeFunctions: () =>
      [...functions.values()]
        .map((f) => f.info)
        .sort((a, b) => a.definition.functionName.localeCompare(b.definition.functionName)),
    drainAsync: () => asyncInvoker.drain(),
    async close() {
      if (closed) return;
      closed = true;
      const draining = asyncInvoker.close();
      for (const { pool } of functions.values()) pool.stop();
      functions.clear();
      await draining;
    },
  };
  return {
    ...service,
    route: createLambdaRoute({
      ...service,
      identity: options.identity,
      eventSourceMappings: options.eventSourceMappings ?? (() => []),
    }),
  };
}

/** LastModified as Lambda writes it (ISO 8601 with milliseconds and a `+0000` offset). */
export function lambdaTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}
