import { existsSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { AssemblyError } from './errors';

/**
 * Reads a synthesized CDK cloud assembly (`cdk.out`): its manifest, each stack's template,
 * and where each Lambda asset was staged. Follows the cloud assembly schema that aws-cdk-lib
 * writes (manifest.json artifacts of type `aws:cloudformation:stack`, `cdk:asset` metadata
 * and `<stack>.assets.json` file assets).
 */

export interface CfnTemplate {
  readonly Parameters?: Record<string, { Type: string; Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Description?: string; Export?: unknown }>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
  /** `Retain` keeps the old physical resource when an update replaces it. */
  readonly UpdateReplacePolicy?: string;
}

export interface StackArtifact {
  readonly stackName: string;
  readonly templateFile: string;
  readonly template: CfnTemplate;
  /** Asset object key (e.g. `<hash>.zip`) -> absolute path of the staged asset directory. */
  readonly assets: ReadonlyMap<string, string>;
}

export { AssemblyError } from './errors';

export function readAssembly(dir: string): StackArtifact[] {
  const root = resolvePath(dir);
  const manifestPath = join(root, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new AssemblyError(
      `no cloud assembly at ${root} (manifest.json missing); run \`npx cdk synth\` first`,
    );
  }
  const manifest = readJson(manifestPath) as {
    artifacts?: Record<string, { type: string; properties?: Record<string, unknown>; displayName?: string }>;
  };
  const stacks: StackArtifact[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const templateFile = String(artifact.properties?.templateFile ?? `${id}.template.json`);
    const stackName = String(artifact.properties?.stackName ?? id);
    const template = readJson(join(root, templateFile)) as CfnTemplate;
    stacks.push({ stackName, templateFile, template, assets: readFileAssets(root, id) });
  }
  if (stacks.length === 0) throw new AssemblyError(`the cloud assembly at ${root} has no stacks`);
  return stacks;
}

function readFileAssets(root: string, artifactId: string): Map<string, string> {
  const assets = new Map<string, string>();
  const path = join(root, `${artifactId}.assets.json`);
  if (!existsSync(path)) return assets;
  const manifest = readJson(path) as {
    files?: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  for (const file of Object.values(manifest.files ?? {})) {
    for (const dest of Object.values(file.destinations)) {
      assets.set(dest.objectKey, join(root, file.source.path));
    }
  }
  return assets;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AssemblyError(`cannot read ${path}: ${(err as Error).message}`);
  }
}
