/**
 * The Lambda management calls that inspect what is deployed, through Debian's AWS CLI (2.9):
 * list-functions, get-function, get-function-configuration, list-event-source-mappings,
 * get-event-source-mapping; and the same API through raw requests in the path form newer
 * botocore sends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { recordingLogger } from '../../../local/common/log';
import { createGatewayService, type GatewayService } from '../../../local/gateway';
import { createLambdaService, type FunctionDefinition, type LambdaService } from '../../../local/lambda';
import { createSqsService, type SqsService } from '../../../local/sqs';
import { AWS_CLI, AWS_CLI_MISSING, awsJson, describeWithCli, runAwsCli } from '../../helpers/aws-cli';
import { bundleFixture, HANDLERS } from './bundle';

if (!AWS_CLI) console.warn(`Lambda management CLI tests skipped: ${AWS_CLI_MISSING}`);

const { accountId, region } = DEFAULT_IDENTITY;
const fnArn = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;
const queueArn = (name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;

let asset: string;
let dir: string;
let sqs: SqsService;
let lambda: LambdaService;
let server: GatewayService;
let clock: number;

beforeAll(async () => {
  asset = await bundleFixture(HANDLERS, 'cjs');
});

afterAll(() => rmSync(asset, { recursive: true, force: true }));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-lambda-mgmt-'));
  clock = Date.UTC(2026, 0, 5, 9, 30, 0, 123);
  const logger = recordingLogger();
  let endpoint = '';
  sqs = await createSqsService({
    dir: join(dir, 'sqs'),
    identity: DEFAULT_IDENTITY,
    logger,
    endpoint: () => endpoint,
    now: () => clock,
  });
  lambda = await createLambdaService({
    dir: join(dir, 'lambda'),
    identity: DEFAULT_IDENTITY,
    logger,
    apiEndpoint: 'http://127.0.0.1:1',
    eventSourceMappings: () => sqs.listEventSourceMappings(),
    now: () => clock,
  });
  server = await createGatewayService({ port: 0, routes: [lambda.route, sqs.route], logger });
  endpoint = server.endpoint;
});

afterEach(async () => {
  await server.close();
  await lambda.close();
  await sqs.close();
  rmSync(dir, { recursive: true, force: true });
});

const definition = (name: string, extra: Partial<FunctionDefinition> = {}): FunctionDefinition => ({
  functionName: name,
  arn: fnArn(name),
  codeDir: asset,
  handler: 'index.counter',
  runtime: 'nodejs22.x',
  timeoutSeconds: 30,
  memoryMb: 256,
  ...extra,
});

const aws = <T = Record<string, unknown>>(...args: string[]) =>
  awsJson<T>(['lambda', ...args], { endpoint: server.endpoint, home: dir });

describeWithCli("Debian's AWS CLI inspecting the local Lambda", () => {
  it('lists the deployed functions with their configuration', async () => {
    await lambda.createFunction(
      definition('zonectl-ingest', {
        description: 'Stores readings',
        role: `arn:aws:iam::${accountId}:role/ingest-role`,
        architectures: ['arm64'],
        environment: { TABLE_NAME: 'readings' },
        logGroup: 'ingest-logs',
        deadLetterTargetArn: queueArn('dlq'),
      }),
    );
    await lambda.createFunction(definition('zonectl-controller'));
    const { Functions } = await aws<{ Functions: Array<Record<string, unknown>> }>('list-functions');
    expect(Functions.map((f) => f.FunctionName)).toEqual(['zonectl-controller', 'zonectl-ingest']);
    expect(Functions[1]).toEqual({
      FunctionName: 'zonectl-ingest',
      FunctionArn: fnArn('zonectl-ingest'),
      Runtime: 'nodejs22.x',
      Role: `arn:aws:iam::${accountId}:role/ingest-role`,
      Handler: 'index.counter',
      CodeSize: expect.any(Number),
      Description: 'Stores readings',
      Timeout: 30,
      MemorySize: 256,
      LastModified: '2026-01-05T09:30:00.123+0000',
      CodeSha256: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
      Version: '$LATEST',
      Environment: { Variables: { TABLE_NAME: 'readings' } },
      DeadLetterConfig: { TargetArn: queueArn('dlq') },
      TracingConfig: { Mode: 'PassThrough' },
      RevisionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: ['arm64'],
      EphemeralStorage: { Size: 512 },
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      // CLI 2.9's model predates LoggingConfig and drops it; the raw HTTP test below sees it.
    });
    expect(Functions[1]!.CodeSize).toBeGreaterThan(0);
  });

  it('keeps the local endpoints and credentials it injects out of the reported environment', async () => {
    await lambda.createFunction(definition('quiet', { environment: { A: '1' } }));
    const config = await aws<{ Environment: { Variables: Record<string, string> } }>(
      'get-function-configuration',
      '--function-name',
      'quiet',
    );
    expect(config.Environment.Variables).toEqual({ A: '1' });
  });

  it('pages list-functions 50 at a time, as Lambda does', async () => {
    for (let i = 0; i < 52; i++) await lambda.createFunction(definition(`fn-${String(i).padStart(2, '0')}`));
    const all = await aws<{ Functions: Array<{ FunctionName: string }> }>('list-functions');
    expect(all.Functions).toHaveLength(52);
    const first = await aws<{ Functions: unknown[]; NextToken?: string }>(
      'list-functions',
      '--max-items',
      '3',
    );
    expect(first.Functions).toHaveLength(3);
    const rest = await aws<{ Functions: Array<{ FunctionName: string }> }>(
      'list-functions',
      '--starting-token',
      first.NextToken!,
    );
    expect(rest.Functions.map((f) => f.FunctionName)[0]).toBe('fn-03');
    expect(rest.Functions).toHaveLength(49);
  });

  it('gets one function by name, ARN or partial ARN, with its code location and reserved concurrency', async () => {
    await lambda.createFunction(
      definition('zonectl-ingest', { reservedConcurrency: 2, tags: { app: 'zonectl' } }),
    );
    for (const ref of ['zonectl-ingest', fnArn('zonectl-ingest'), `${accountId}:function:zonectl-ingest`]) {
      const got = await aws<{
        Configuration: { FunctionArn: string };
        Code: { RepositoryType: string; Location: string };
      }>('get-function', '--function-name', ref);
      expect(got.Configuration.FunctionArn).toBe(fnArn('zonectl-ingest'));
      expect(got).toMatchObject({
        Code: { RepositoryType: 'S3', Location: expect.stringMatching(/^file:\/\/.*zonectl-ingest-/) },
        Tags: { app: 'zonectl' },
        Concurrency: { ReservedConcurrentExecutions: 2 },
      });
    }
    expect(
      await aws('get-function-configuration', '--function-name', 'zonectl-ingest', '--qualifier', '$LATEST'),
    ).toMatchObject({ FunctionName: 'zonectl-ingest', Version: '$LATEST' });
  });

  it('reports a redeployed function with a new LastModified, RevisionId and CodeSha256', async () => {
    await lambda.createFunction(definition('changing'));
    const before = await aws<Record<string, string>>(
      'get-function-configuration',
      '--function-name',
      'changing',
    );
    clock += 60_000;
    const other = await bundleFixture(HANDLERS, 'esm');
    try {
      await lambda.createFunction(definition('changing', { codeDir: other }));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    const after = await aws<Record<string, string>>(
      'get-function-configuration',
      '--function-name',
      'changing',
    );
    expect(after.LastModified).toBe('2026-01-05T09:31:00.123+0000');
    expect(after.RevisionId).not.toBe(before.RevisionId);
    expect(after.CodeSha256).not.toBe(before.CodeSha256);
  });

  it('fails an unknown function, or a version other than $LATEST, with ResourceNotFoundException naming its ARN', async () => {
    await lambda.createFunction(definition('known'));
    const missing = await runAwsCli(['lambda', 'get-function', '--function-name', 'nobody'], {
      endpoint: server.endpoint,
      home: dir,
    });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(
      new RegExp(`\\(ResourceNotFoundException\\).*Function not found: ${fnArn('nobody')}`),
    );
    const version = await runAwsCli(
      ['lambda', 'get-function', '--function-name', 'known', '--qualifier', '3'],
      {
        endpoint: server.endpoint,
        home: dir,
      },
    );
    expect(version.stderr).toMatch(new RegExp(`Function not found: ${fnArn('known')}:3`));
  });

  it('lists the event source mappings, filtered by function or by queue, and gets one by UUID', async () => {
    await lambda.createFunction(definition('consumer'));
    await lambda.createFunction(definition('other'));
    await sqs.createQueue('ingest');
    await sqs.createQueue('spare');
    const invoke = async () => ({ payload: null });
    const mapping = await sqs.createEventSourceMapping(
      {
        queueArn: queueArn('ingest'),
        functionArn: fnArn('consumer'),
        batchSize: 100,
        maximumBatchingWindowSeconds: 5,
        functionResponseTypes: ['ReportBatchItemFailures'],
      },
      invoke,
    );
    await sqs.createEventSourceMapping(
      { queueArn: queueArn('spare'), functionArn: fnArn('other'), enabled: false },
      invoke,
    );
    // The CLI prints the epoch-seconds LastModified as a date, and its 2.9 model predates
    // EventSourceMappingArn (the raw HTTP test below sees both as sent).
    const expected = {
      UUID: mapping.uuid,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      EventSourceArn: queueArn('ingest'),
      FunctionArn: fnArn('consumer'),
      LastModified: '2026-01-05T09:30:00.123000+00:00',
      State: 'Enabled',
      StateTransitionReason: 'USER_INITIATED',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    };
    const all = await aws<{ EventSourceMappings: Array<{ State: string }> }>('list-event-source-mappings');
    expect(all.EventSourceMappings.map((m) => m.State).sort()).toEqual(['Disabled', 'Enabled']);
    expect(await aws('list-event-source-mappings', '--function-name', 'consumer')).toEqual({
      EventSourceMappings: [expected],
    });
    expect(await aws('list-event-source-mappings', '--event-source-arn', queueArn('ingest'))).toEqual({
      EventSourceMappings: [expected],
    });
    expect(await aws('get-event-source-mapping', '--uuid', mapping.uuid)).toEqual(expected);

    await mapping.close();
    const after = await aws<{ EventSourceMappings: unknown[] }>(
      'list-event-source-mappings',
      '--function-name',
      'consumer',
    );
    expect(after.EventSourceMappings, 'a closed mapping is gone').toEqual([]);
    const gone = await runAwsCli(['lambda', 'get-event-source-mapping', '--uuid', mapping.uuid], {
      endpoint: server.endpoint,
      home: dir,
    });
    expect(gone.stderr).toMatch(/\(ResourceNotFoundException\).*does not exist/);
  });

  it('answers a Lambda call it does not serve with an error naming what it serves', async () => {
    await lambda.createFunction(definition('known'));
    const out = await runAwsCli(['lambda', 'get-policy', '--function-name', 'known'], {
      endpoint: server.endpoint,
      home: dir,
    });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/ListFunctions, GetFunction, GetFunctionConfiguration.*is not emulated/);
  });
});

describe('Lambda management API over raw HTTP', () => {
  it('answers ListFunctions without the trailing slash, as newer botocore and SDK v3 send it', async () => {
    await lambda.createFunction(definition('plain'));
    const res = await fetch(`${server.endpoint}/2015-03-31/functions?MaxItems=10`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { Functions: Array<{ FunctionName: string }> };
    expect(body.Functions.map((f) => f.FunctionName)).toEqual(['plain']);
  });

  it('sends LoggingConfig, an epoch-seconds LastModified and EventSourceMappingArn as Lambda does', async () => {
    await lambda.createFunction(definition('logged', { logGroup: 'my-logs', logFormat: 'JSON' }));
    await sqs.createQueue('q');
    const mapping = await sqs.createEventSourceMapping(
      { queueArn: queueArn('q'), functionArn: fnArn('logged') },
      async () => ({ payload: null }),
    );
    const config = (await (
      await fetch(`${server.endpoint}/2015-03-31/functions/logged/configuration`)
    ).json()) as Record<string, unknown>;
    expect(config.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: 'my-logs' });
    const got = (await (
      await fetch(`${server.endpoint}/2015-03-31/event-source-mappings/${mapping.uuid}`)
    ).json()) as Record<string, unknown>;
    expect(got).toMatchObject({
      LastModified: clock / 1000,
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      EventSourceMappingArn: `arn:aws:lambda:${region}:${accountId}:event-source-mapping:${mapping.uuid}`,
    });
  });

  it('fails a bad MaxItems with InvalidParameterValueException', async () => {
    const res = await fetch(`${server.endpoint}/2015-03-31/functions/?MaxItems=0`);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidParameterValueException');
  });
});
