import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { silentLogger } from '../../../local/common/log';
import type { CfnTemplate, StackArtifact } from '../../../local/deployer/assembly';
import { deployStacks } from '../../../local/deployer/deployer';
import { localProviders } from '../../../local/deployer/providers/providers';
import type { LocalServices } from '../../../local/deployer/providers/shared';
import type { LambdaService } from '../../../local/lambda';
import { createSqsService, type SqsService } from '../../../local/sqs';

/**
 * The local cloud builds a fresh set of resource providers for every deploy (local/cloud.ts), so
 * whatever a provider keeps in memory is gone at the next deploy. These tests deploy the way
 * the cloud does and check that an SQS event source mapping runs exactly one poller however
 * often it is redeployed: two pollers on one queue split every batch between them.
 */

let dir: string;
let sqs: SqsService;
let batches: number[];

const queueName = 'ingest';
const fakeLambda = {
  invoke: async (_arn: string, event: { Records: unknown[] }) => {
    batches.push(event.Records.length);
    return { statusCode: 200, payload: null };
  },
} as unknown as LambdaService;

function mappingTemplate(batchSize: number): CfnTemplate {
  return {
    Resources: {
      Mapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: sqs.queueArnOf(queueName),
          FunctionName: 'ingest-fn',
          BatchSize: batchSize,
          MaximumBatchingWindowInSeconds: 1,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        },
      },
    },
  };
}

/** One deploy as `LocalCloud.deploy` does it: new providers each time. */
function deploy(template: CfnTemplate) {
  const services = {
    identity: DEFAULT_IDENTITY,
    logger: silentLogger,
    sqs,
    lambda: fakeLambda,
    assemblyDir: dir,
  } as unknown as LocalServices;
  const { providers, fallback } = localProviders(services);
  const stack: StackArtifact = {
    stackName: 'Zonectl-hq',
    templateFile: 't.json',
    template,
    assets: new Map(),
  };
  return deployStacks([stack], {
    stateDir: dir,
    identity: DEFAULT_IDENTITY,
    logger: silentLogger,
    providers,
    fallback,
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zonectl-deploy-esm-'));
  batches = [];
  sqs = await createSqsService({
    dir: join(dir, 'sqs'),
    identity: DEFAULT_IDENTITY,
    logger: silentLogger,
    endpoint: () => 'http://127.0.0.1:4566',
  });
  await sqs.createQueue(queueName);
});

afterEach(async () => {
  await sqs.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('event source mappings across redeploys', () => {
  it('keeps one poller with the same UUID when an unchanged mapping is redeployed', async () => {
    const first = await deploy(mappingTemplate(100));
    const again = await deploy(mappingTemplate(100));
    expect(again.report.map((l) => l.status)).toEqual(['unchanged']);
    expect(sqs.listEventSourceMappings().map((m) => m.uuid)).toEqual([first.report[0]?.physicalId]);
  });

  it('replaces the poller of a changed mapping instead of adding a second one, keeping its UUID', async () => {
    const first = await deploy(mappingTemplate(10));
    const changed = await deploy(mappingTemplate(100));
    expect(changed.report.map((l) => l.status)).toEqual(['updated']);
    const running = sqs.listEventSourceMappings();
    expect(running.map((m) => m.uuid)).toEqual([first.report[0]?.physicalId]);
    expect(running[0]?.batchSize).toBe(100);

    // One poller gathers the whole burst into one batch; two would split it between them.
    for (let i = 0; i < 50; i++) await sqs.send(queueName, `message ${i}`);
    await expect.poll(() => batches.reduce((a, b) => a + b, 0), { timeout: 5_000 }).toBe(50);
    expect(batches).toEqual([50]);
  });

  it('stops the poller of a mapping that left the template', async () => {
    await deploy(mappingTemplate(10));
    const removed = await deploy({ Resources: {} });
    expect(removed.report.map((l) => l.status)).toEqual(['removed']);
    expect(sqs.listEventSourceMappings()).toEqual([]);
  });
});
