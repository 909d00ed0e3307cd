import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type BuildingConfig, buildingStackName, parseBuildingConfigText } from '../../contracts';
import { BuildingStack } from '../../lib/building-stack';

/** cdk.json's context (feature flags included), so tests build what `cdk synth` builds. */
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

export const fixturePath = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

export function loadFixture(name = 'building.json'): BuildingConfig {
  return parseBuildingConfigText(readFileSync(fixturePath(name), 'utf8'), name);
}

export interface Synthesized {
  readonly app: App;
  readonly stack: BuildingStack;
  readonly template: Template;
}

/**
 * Builds the building's stack in a fresh app (bundling the handlers once) and synthesizes it.
 * The built-in CloudFormation Validate plugin is off here (it takes ~20 s to start); the
 * validation test runs it.
 */
export function synthBuilding(config: BuildingConfig, csrPems?: Record<string, string>): Synthesized {
  const app = new App({ context: CDK_CONTEXT, builtinCloudFormationValidation: false });
  const stack = new BuildingStack(app, buildingStackName(config.buildingId), { config, csrPems });
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * The template with what changes on every code change replaced by placeholders: asset hashes
 * in S3 keys, asset paths and `cdk:asset` metadata.
 */
export function normalisedTemplate(stack: Stack): unknown {
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return JSON.parse(
    json
      .replace(/[0-9a-f]{64}\.zip/g, '<asset-hash>.zip')
      .replace(/asset\.[0-9a-f]{64}/g, 'asset.<asset-hash>')
      .replace(/"S3Key":"[^"]*"/g, '"S3Key":"<asset-key>"')
      .replace(/"aws:asset:path":"[^"]*"/g, '"aws:asset:path":"<asset-path>"'),
  );
}

/**
 * A template value with its `Ref`s to the partition, region and account pseudo parameters and
 * its `Fn::Join`s resolved as CloudFormation would in `identity`'s account; the local cloud's
 * partition is `aws`.
 */
export function resolvePseudoParameters(
  value: unknown,
  identity: { readonly accountId: string; readonly region: string },
): unknown {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': identity.region,
    'AWS::AccountId': identity.accountId,
  };
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string' && o.Ref in pseudo) return pseudo[o.Ref];
    if (Array.isArray(o['Fn::Join'])) {
      const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  };
  return resolve(value);
}

/** The staged asset directory of a function in the synthesized app (where its bundle and shipped files are). */
export function assetDirOf(stack: Stack, fn: { node: { defaultChild?: unknown } }): string {
  const resolved = stack.resolve((fn.node.defaultChild as { code: unknown }).code) as { s3Key?: string };
  const hash = /^([0-9a-f]{64})\.zip$/.exec(resolved.s3Key ?? '')?.[1];
  if (!hash) throw new Error(`no asset S3 key on ${String(resolved.s3Key)}`);
  const outdir = (stack.node.root as unknown as { outdir: string }).outdir;
  return join(outdir, `asset.${hash}`);
}

/** An IoT ARN as the stack writes it: Fn::Join of partition, region, account and `resource`. */
export function iotArnJson(resource: string) {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':iot:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:${resource}`,
      ],
    ],
  };
}
