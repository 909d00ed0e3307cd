import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { recordingLogger } from '../../../local/common/log';
import { createGatewayService } from '../../../local/gateway';
import {
  createLambdaService,
  type FunctionDefinition,
  type LambdaService,
  type LambdaServiceOptions,
} from '../../../local/lambda';
import { createSqsService, type SqsService } from '../../../local/sqs';
import { bundleFixture, HANDLERS, SDK_HANDLER, ZOD_HANDLER } from './bundle';

const API = 'http://127.0.0.1:59999';
let cjsAsset: string;
let esmAsset: string;
let dir: string;
let logger: ReturnType<typeof recordingLogger>;
let lambda: LambdaService;
let sqs: SqsService;

const fnArn = (name: string) =>
  `arn:aws:lambda:${DEFAULT_IDENTITY.region}:${DEFAULT_IDENTITY.accountId}:function:${name}`;

function definition(
  name: string,
  handler: string,
  extra: Partial<FunctionDefinition> = {},
): FunctionDefinition {
  return {
    functionName: name,
    arn: fnArn(name),
    codeDir: cjsAsset,
    handler: `index.${handler}`,
    runtime: 'nodejs22.x',
    timeoutSeconds: 5,
    memoryMb: 256,
    ...extra,
  };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  cjsAsset = await bundleFixture(HANDLERS, 'cjs');
  esmAsset = await bundleFixture(HANDLERS, 'esm');
});

afterAll(() => {
  rmSync(cjsAsset, { recursive: true, force: true });
  rmSync(esmAsset, { recursive: true, force: true });
});

/** Opens the Lambda service on the test's state dir (again, after a close, for restart tests). */
const openLambda = (extra: Partial<LambdaServiceOptions> = {}) =>
  createLambdaService({
    dir: join(dir, 'lambda'),
    identity: DEFAULT_IDENTITY,
    logger,
    apiEndpoint: API,
    region: DEFAULT_IDENTITY.region,
    sendToQueue: (arn, body, attributes) => sqs.send(arn, body, attributes ? { attributes } : {}),
    asyncRetryDelaysMs: [50, 50],
    idleTimeoutMs: 60_000,
    ...extra,
  });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-lambda-'));
  logger = recordingLogger();
  sqs = await createSqsService({
    dir: join(dir, 'sqs'),
    identity: DEFAULT_IDENTITY,
    logger,
    endpoint: () => API,
  });
  lambda = await openLambda();
});

afterEach(async () => {
  await lambda.close();
  await sqs.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('local Lambda runtime', () => {
  it('loads a CommonJS asset as CommonJS even inside a project whose package.json says "type": "module"', async () => {
    const project = join(dir, 'project');
    cpSync(cjsAsset, join(project, 'cdk.out', 'asset.1'), { recursive: true });
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
    await lambda.createFunction(
      definition('inproject', 'counter', { codeDir: join(project, 'cdk.out', 'asset.1') }),
    );
    const result = await lambda.invoke('inproject', {});
    expect(result.functionError).toBeUndefined();
    expect((result.payload as { invocations: number }).invocations).toBe(1);
  });

  it('runs module scope once per instance: a cold start, then warm starts', async () => {
    await lambda.createFunction(definition('counter', 'counter'));
    const first = (await lambda.invoke('counter', {})).payload as { invocations: number; pid: number };
    const second = (await lambda.invoke('counter', {})).payload as { invocations: number; pid: number };
    expect(first.invocations).toBe(1);
    expect(second.invocations).toBe(2);
    expect(second.pid).toBe(first.pid);
    expect(first.pid).not.toBe(process.pid);
  });

  it('passes a Lambda context object to the handler', async () => {
    await lambda.createFunction(definition('ctx', 'counter'));
    const result = await lambda.invoke(fnArn('ctx'), {});
    const { context } = result.payload as { context: Record<string, unknown> };
    expect(context).toMatchObject({
      functionName: 'ctx',
      invokedFunctionArn: fnArn('ctx'),
      awsRequestId: result.requestId,
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/ctx',
    });
    expect(context.remainingMs).toBeGreaterThan(3000);
  });

  it('gives the handler its template environment, local endpoints and credentials, not the parent environment', async () => {
    process.env.ZONECTL_PARENT_ONLY = 'secret';
    await lambda.createFunction(
      definition('env', 'envProbe', { environment: { TIMESTREAM_TABLE: 'readings' } }),
    );
    const keys = [
      'TIMESTREAM_TABLE',
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL_SQS',
      'AWS_ENDPOINT_URL_TIMESTREAM_WRITE',
      'AWS_ENDPOINT_URL_TIMESTREAM_QUERY',
      'AWS_ENDPOINT_URL_IOT_DATA_PLANE',
      'AWS_REGION',
      'AWS_LAMBDA_FUNCTION_NAME',
      'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
      'AWS_EXECUTION_ENV',
      '_HANDLER',
      'TZ',
      'ZONECTL_PARENT_ONLY',
      'AWS_ACCESS_KEY_ID',
    ];
    const env = (await lambda.invoke('env', { keys })).payload as Record<string, string | null>;
    delete process.env.ZONECTL_PARENT_ONLY;
    expect(env).toMatchObject({
      TIMESTREAM_TABLE: 'readings',
      AWS_ENDPOINT_URL: API,
      AWS_ENDPOINT_URL_SQS: API,
      AWS_ENDPOINT_URL_TIMESTREAM_WRITE: API,
      AWS_ENDPOINT_URL_TIMESTREAM_QUERY: API,
      AWS_ENDPOINT_URL_IOT_DATA_PLANE: API,
      AWS_REGION: DEFAULT_IDENTITY.region,
      AWS_LAMBDA_FUNCTION_NAME: 'env',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      _HANDLER: 'index.envProbe',
      TZ: ':UTC',
      ZONECTL_PARENT_ONLY: null,
    });
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
  });

  it('runs an ESM bundle (index.mjs)', async () => {
    await lambda.createFunction(definition('esm', 'counter', { codeDir: esmAsset }));
    expect((await lambda.invoke('esm', {})).payload).toMatchObject({ invocations: 1 });
  });

  it('supports callback-style handlers', async () => {
    await lambda.createFunction(definition('callback', 'callbackStyle'));
    expect((await lambda.invoke('callback', { value: 21 })).payload).toEqual({ doubled: 42 });
  });

  it('returns a handler error in Lambda shape', async () => {
    await lambda.createFunction(definition('fails', 'fail'));
    const result = await lambda.invoke('fails', { message: 'bad input' });
    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
    expect((result.payload as { trace: string[] }).trace[0]).toContain('TypeError: bad input');
    // The function's log reaches the cloud's log through its output stream, not with the result.
    await expect
      .poll(() => logger.lines.some((l) => l.includes('fails') && l.includes('failing on purpose')))
      .toBe(true);
  });

  it('kills an invocation that exceeds its timeout and reports it', async () => {
    await lambda.createFunction(definition('slow', 'slow', { timeoutSeconds: 1 }));
    const warm = (await lambda.invoke('slow', { ms: 1 })).payload as { pid: number };
    const result = await lambda.invoke('slow', { ms: 5000 });
    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect((result.payload as { errorMessage: string }).errorMessage).toContain(
      'Task timed out after 1.00 seconds',
    );
    await vi.waitFor(() => expect(isAlive(warm.pid)).toBe(false));
    const next = (await lambda.invoke('slow', { ms: 1 })).payload as { pid: number };
    expect(next.pid).not.toBe(warm.pid);
  });

  it("finishes an invocation when Ctrl-C signals the instance's process group: the cloud ends instances", async () => {
    await lambda.createFunction(definition('interrupted', 'slow'));
    const warm = (await lambda.invoke('interrupted', { ms: 1 })).payload as { pid: number };
    // Not in the cloud's process group, so a terminal's Ctrl-C does not reach it at all...
    const group = (pid: number | 'self') =>
      readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[2];
    expect(group(warm.pid)).not.toBe(group('self'));
    // ...and a signal sent to it anyway does not end the invocation in flight.
    const running = lambda.invoke('interrupted', { ms: 500 });
    await new Promise((r) => setTimeout(r, 100));
    process.kill(warm.pid, 'SIGINT');
    process.kill(warm.pid, 'SIGTERM');
    const result = await running;
    expect(result.functionError).toBeUndefined();
    expect(result.payload).toEqual({ slept: 500, pid: warm.pid });
  });

  it('replaces an instance whose process exits during an invocation', async () => {
    await lambda.createFunction(definition('crashy', 'crash'));
    const before = (await lambda.invoke('crashy', {})).payload as { pid: number };
    const crashed = await lambda.invoke('crashy', { crash: true });
    expect(crashed.functionError).toBe('Unhandled');
    expect(crashed.payload).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect((crashed.payload as { errorMessage: string }).errorMessage).toContain('exit status 3');
    const after = (await lambda.invoke('crashy', {})).payload as { pid: number };
    expect(after.pid).not.toBe(before.pid);
  });

  it('reports a missing handler export as Runtime.HandlerNotFound', async () => {
    await lambda.createFunction(definition('missing', 'nope'));
    const result = await lambda.invoke('missing', {});
    expect(result.payload).toMatchObject({ errorType: 'Runtime.HandlerNotFound' });
  });

  it('refuses a function whose code directory does not exist', async () => {
    await expect(
      lambda.createFunction(definition('no-code', 'counter', { codeDir: join(dir, 'missing-asset') })),
    ).rejects.toThrow(/does not exist/);
  });

  it('stops the old instances when a function is replaced', async () => {
    await lambda.createFunction(definition('redeploy', 'counter'));
    const old = (await lambda.invoke('redeploy', {})).payload as { pid: number };
    await lambda.createFunction(definition('redeploy', 'counter', { environment: { VERSION: '2' } }));
    await vi.waitFor(() => expect(isAlive(old.pid)).toBe(false));
    const fresh = (await lambda.invoke('redeploy', {})).payload as { invocations: number; pid: number };
    expect(fresh).toMatchObject({ invocations: 1 });
    expect(fresh.pid).not.toBe(old.pid);
  });

  it('serves concurrent invocations from separate instances up to the cap', async () => {
    await lambda.createFunction(definition('parallel', 'slow', { reservedConcurrency: 2 }));
    const results = await Promise.all([1, 2, 3].map(() => lambda.invoke('parallel', { ms: 300 })));
    const pids = new Set(results.map((r) => (r.payload as { pid: number }).pid));
    expect(pids.size).toBe(2);
    expect(lambda.listFunctions()[0]?.instances).toBe(2);
  });

  it('retries a failed async invocation twice, then sends the record to the on-failure destination and the event to the DLQ', async () => {
    await sqs.createQueue('fn-destination');
    await sqs.createQueue('fn-dlq');
    await lambda.createFunction(
      definition('async-fails', 'fail', {
        onFailureDestinationArn: sqs.queueArnOf('fn-destination'),
        deadLetterTargetArn: sqs.queueArnOf('fn-dlq'),
      }),
    );
    const accepted = await lambda.invoke('async-fails', { message: 'always' }, 'Event');
    expect(accepted.statusCode).toBe(202);
    await lambda.drainAsync();
    expect(logger.lines.filter((l) => l.includes('failing on purpose'))).toHaveLength(3);

    const [record] = await sqs.receive(sqs.queueUrlOf('fn-destination'));
    expect(JSON.parse(record!.message.body)).toMatchObject({
      version: '1.0',
      requestContext: {
        requestId: accepted.requestId,
        functionArn: `${fnArn('async-fails')}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { message: 'always' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'always' },
    });
    const [dead] = await sqs.receive(sqs.queueUrlOf('fn-dlq'));
    expect(JSON.parse(dead!.message.body)).toEqual({ message: 'always' });
    expect(dead!.message.attributes?.RequestID?.StringValue).toBe(accepted.requestId);
    expect(dead!.message.attributes?.ErrorMessage?.StringValue).toBe('always');
  });

  it('answers the Invoke API over HTTP, with X-Amz-Function-Error on a function error', async () => {
    await lambda.createFunction(definition('http-ok', 'counter'));
    await lambda.createFunction(definition('http-fail', 'fail'));
    const server = await createGatewayService({ port: 0, routes: [lambda.route], logger });
    try {
      const ok = await fetch(`${server.endpoint}/2015-03-31/functions/http-ok/invocations`, {
        method: 'POST',
        body: '{}',
      });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ invocations: 1 });
      const failed = await fetch(
        `${server.endpoint}/2015-03-31/functions/${encodeURIComponent(fnArn('http-fail'))}/invocations`,
        { method: 'POST', body: '{"message":"over http"}' },
      );
      expect(failed.headers.get('x-amz-function-error')).toBe('Unhandled');
      expect(await failed.json()).toMatchObject({ errorMessage: 'over http' });
      const queued = await fetch(`${server.endpoint}/2015-03-31/functions/http-ok/invocations`, {
        method: 'POST',
        headers: { 'x-amz-invocation-type': 'Event' },
        body: '{}',
      });
      expect(queued.status).toBe(202);
      const missing = await fetch(`${server.endpoint}/2015-03-31/functions/nobody/invocations`, {
        method: 'POST',
        body: '{}',
      });
      expect(missing.status).toBe(404);
      expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    } finally {
      await server.close();
    }
  });

  it('provides the AWS SDK to a bundle that leaves it out, as the nodejs22.x runtime does, and lets an unmodified SDK client reach the local SQS through AWS_ENDPOINT_URL_SQS', async () => {
    const sdkAsset = await bundleFixture(SDK_HANDLER, 'cjs', ['@aws-sdk/*']);
    let endpoint = '';
    const localSqs = await createSqsService({
      dir: join(dir, 'sqs-http'),
      identity: DEFAULT_IDENTITY,
      logger,
      endpoint: () => endpoint,
    });
    const server = await createGatewayService({ port: 0, routes: [localSqs.route], logger });
    endpoint = server.endpoint;
    const local = await createLambdaService({
      dir: join(dir, 'lambda-http'),
      identity: DEFAULT_IDENTITY,
      logger,
      apiEndpoint: endpoint,
    });
    try {
      const url = await localSqs.createQueue('from-handler');
      await local.createFunction(definition('sdk', 'handler', { codeDir: sdkAsset }));
      const result = await local.invoke('sdk', { queueUrl: url, body: 'sent by the handler' });
      expect(result.functionError).toBeUndefined();
      const [received] = await localSqs.receive(url);
      expect(received?.message.body).toBe('sent by the handler');
      expect(received?.message.id).toBe((result.payload as { messageId: string }).messageId);
      expect(received?.message.senderId).toMatch(/^ASIA/);
    } finally {
      await local.close();
      await server.close();
      await localSqs.close();
      rmSync(sdkAsset, { recursive: true, force: true });
    }
  });

  it('fails the Init phase with Runtime.ImportModuleError when a bundle leaves out a package the runtime does not provide', async () => {
    const asset = await bundleFixture(ZOD_HANDLER, 'cjs', ['zod']);
    try {
      await lambda.createFunction(definition('no-zod', 'handler', { codeDir: asset }));
      const result = await lambda.invoke('no-zod', {});
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toMatchObject({
        errorType: 'Runtime.ImportModuleError',
        errorMessage: expect.stringContaining("Cannot find module 'zod'"),
      });
    } finally {
      rmSync(asset, { recursive: true, force: true });
    }
  });

  it('runs the functions deployed before a restart without a redeploy, from their staged code', async () => {
    await lambda.createFunction(definition('kept', 'counter'));
    await lambda.close();
    lambda = await openLambda();
    const result = await lambda.invoke('kept', {});
    expect(result.functionError).toBeUndefined();
    expect(lambda.listFunctions().map((f) => f.functionName)).toEqual(['kept']);
    expect(logger.lines.some((l) => l.includes('restored 1 function(s): kept'))).toBe(true);
  });

  it('keeps queued asynchronous events across a restart and runs them after it', async () => {
    const file = join(dir, 'ran.txt');
    await lambda.createFunction(definition('one-at-a-time', 'record', { reservedConcurrency: 1 }));
    await lambda.invoke('one-at-a-time', { file, line: 'first', ms: 2000 }, 'Event');
    await lambda.invoke('one-at-a-time', { file, line: 'second' }, 'Event');
    // Stopped while the first runs (or starts) and the second waits in the queue.
    await lambda.close();
    const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
    expect(before).not.toContain('second');
    lambda = await openLambda();
    await lambda.drainAsync();
    expect(readFileSync(file, 'utf8').trim().split('\n').sort()).toEqual(['first', 'second']);
  });

  it('answers TooManyRequestsException once a function has its bound of asynchronous events queued', async () => {
    await lambda.close();
    lambda = await openLambda({ maxQueuedEventsPerFunction: 2 });
    await lambda.createFunction(definition('bounded', 'slow', { reservedConcurrency: 1 }));
    const server = await createGatewayService({ port: 0, routes: [lambda.route], logger });
    try {
      const invoke = () =>
        fetch(`${server.endpoint}/2015-03-31/functions/bounded/invocations`, {
          method: 'POST',
          headers: { 'x-amz-invocation-type': 'Event' },
          body: '{"ms":1000}',
        });
      expect((await invoke()).status).toBe(202);
      expect((await invoke()).status).toBe(202);
      const refused = await invoke();
      expect(refused.status).toBe(429);
      expect(refused.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
      expect(((await refused.json()) as { message: string }).message).toMatch(/holds 2 events \(its bound\)/);
    } finally {
      await server.close();
    }
  });
});
