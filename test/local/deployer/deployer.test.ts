import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { silentLogger } from '../../../local/common/log';
import type { CfnTemplate, StackArtifact } from '../../../local/deployer/assembly';
import {
  type ApplyRequest,
  DeployError,
  deploymentOrder,
  deployStacks,
  physicalName,
  type ResourceProvider,
} from '../../../local/deployer/deployer';

function stack(template: CfnTemplate): StackArtifact {
  return { stackName: 'Zonectl-hq', templateFile: 't.json', template, assets: new Map() };
}

function recorder() {
  const applied: ApplyRequest[] = [];
  const removed: string[] = [];
  const provider: ResourceProvider = {
    apply: async (req) => {
      applied.push(req);
      const name = (req.properties.Name as string | undefined) ?? req.physicalName(64);
      return { ref: name, attributes: { Arn: `arn:test:${name}` }, emulated: true };
    },
    remove: async (res) => {
      removed.push(res.logicalId);
    },
  };
  const fallback: ResourceProvider = {
    apply: async (req) => ({ ref: req.logicalId, attributes: {}, emulated: false, note: 'no local effect' }),
  };
  return { applied, removed, provider, fallback };
}

const template: CfnTemplate = {
  Resources: {
    Rule: { Type: 'Test::Thing', Properties: { Target: { 'Fn::GetAtt': ['Queue', 'Arn'] } } },
    Queue: { Type: 'Test::Thing', Properties: { Name: 'q' } },
    Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { Q: { Ref: 'Queue' } } },
  },
  Outputs: { QueueArn: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] } } },
};

const dirs: string[] = [];
/** A fresh state dir, removed after the tests. */
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('local deployer', () => {
  it('orders resources after what they reference', () => {
    const order = deploymentOrder(template);
    expect(order.indexOf('Queue')).toBeLessThan(order.indexOf('Rule'));
  });

  it('reports a circular dependency by its resources', () => {
    const cyclic: CfnTemplate = {
      Resources: {
        A: { Type: 'T', Properties: { x: { Ref: 'B' } } },
        B: { Type: 'T', Properties: { x: { Ref: 'A' } } },
      },
    };
    expect(() => deploymentOrder(cyclic)).toThrow(/circular dependency between resources: A -> B -> A/);
  });

  it('creates resources with resolved properties, reports unknown types as not emulated, and resolves outputs', async () => {
    const dir = tempDir();
    const r = recorder();
    const result = await deployStacks([stack(template)], {
      stateDir: dir,
      identity: DEFAULT_IDENTITY,
      logger: silentLogger,
      providers: { 'Test::Thing': r.provider },
      fallback: r.fallback,
    });
    expect(r.applied.find((a) => a.logicalId === 'Rule')?.properties).toEqual({ Target: 'arn:test:q' });
    expect(result.report.map((l) => [l.logicalId, l.status])).toEqual([
      ['Queue', 'created'],
      ['Rule', 'created'],
      ['Alarm', 'not emulated'],
    ]);
    expect(result.outputs['Zonectl-hq']).toEqual({ QueueArn: 'arn:test:q' });
    expect(JSON.parse(readFileSync(join(dir, 'stack-outputs.json'), 'utf8'))['Zonectl-hq'].QueueArn).toBe(
      'arn:test:q',
    );
  });

  it('reports unchanged and updated resources on redeploy and removes what left the template', async () => {
    const dir = tempDir();
    const r = recorder();
    const options = {
      stateDir: dir,
      identity: DEFAULT_IDENTITY,
      logger: silentLogger,
      providers: { 'Test::Thing': r.provider },
      fallback: r.fallback,
    };
    await deployStacks([stack(template)], options);
    const changed: CfnTemplate = {
      Resources: { Queue: { Type: 'Test::Thing', Properties: { Name: 'q', Visibility: 60 } } },
    };
    const result = await deployStacks([stack(changed)], options);
    expect(result.report.map((l) => [l.logicalId, l.status])).toEqual([
      ['Queue', 'updated'],
      ['Rule', 'removed'],
      ['Alarm', 'removed'],
    ]);
    expect(r.removed).toEqual(['Rule']);
    const again = await deployStacks([stack(changed)], options);
    expect(again.report.map((l) => l.status)).toEqual(['unchanged']);
  });

  it('fails naming the resource when a provider cannot create it', async () => {
    const failing: ResourceProvider = {
      apply: async () => {
        throw new Error('asset missing');
      },
    };
    await expect(
      deployStacks([stack({ Resources: { Fn: { Type: 'AWS::Lambda::Function' } } })], {
        stateDir: tempDir(),
        identity: DEFAULT_IDENTITY,
        logger: silentLogger,
        providers: { 'AWS::Lambda::Function': failing },
        fallback: failing,
      }),
    ).rejects.toThrow(DeployError);
  });

  it('generates stable CloudFormation-style names within the length limit', () => {
    const a = physicalName('Zonectl-hq', 'IngestPipelineIngestQueue1234ABCD', 80);
    expect(a).toBe(physicalName('Zonectl-hq', 'IngestPipelineIngestQueue1234ABCD', 80));
    expect(a.length).toBeLessThanOrEqual(80);
    expect(physicalName('Zonectl-hq', 'Rule', 128, '_')).toMatch(/^[A-Za-z0-9_]+$/);
  });
});
