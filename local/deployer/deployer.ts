/**
 * Deploys the stacks of a cloud assembly into the local services, the way CloudFormation
 * would: resources in dependency order, intrinsics resolved with the local account and
 * region, physical names generated as `<stack>-<logicalId>-<suffix>` when the template does
 * not name a resource, outputs resolved at the end. A second deploy of the same assembly
 * finds each resource by logical id and updates only what changed; resources gone from the
 * template are removed. Service state (shadows, readings, queued messages) is never reset.
 *
 * LIMITATIONS versus CloudFormation: no rollback (a failed data-path resource stops the
 * deploy with the error, resources already applied stay), no change sets, no nested stacks,
 * no cross-stack imports, no custom resources (reported as not emulated), no replacement
 * semantics for immutable properties beyond what each provider implements.
 */

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { StateFile } from '../common';
import type { CfnTemplate, StackArtifact } from './assembly';
import { resolveDynamicReferences } from './dynamic-references';
import { DeployError, IntrinsicError } from './errors';
import { type IntrinsicContext, references, resolve } from './intrinsics';
import type {
  ApplyResult,
  DeployedResource,
  DeployerOptions,
  DeployResult,
  DeployStatus,
  ReportLine,
} from './types';

export { DeployError } from './errors';
/** The deploy's types, also importable from here as they always were. */
export type * from './types';

const DeployedResourceSchema = z.object({
  type: z.string().min(1),
  propsHash: z.string(),
  ref: z.string(),
  attributes: z.record(z.string(), z.unknown()),
});
const StackStateSchema = z.object({ resources: z.record(z.string(), DeployedResourceSchema) });
type StackState = { resources: Record<string, DeployedResource> };
const OutputsSchema = z.record(z.string(), z.record(z.string(), z.unknown()));

export async function deployStacks(
  stacks: readonly StackArtifact[],
  options: DeployerOptions,
): Promise<DeployResult> {
  const report: ReportLine[] = [];
  const outputs: Record<string, Record<string, unknown>> = {};
  const outputsFile = StateFile.open<Record<string, Record<string, unknown>>>({
    path: join(options.stateDir, 'stack-outputs.json'),
    schema: OutputsSchema,
    initial: () => ({}),
    what: 'the outputs of the deployed stacks',
    logger: options.logger,
    // Written again by this deploy.
    whenUnusable: 'start-empty',
  });
  for (const stack of stacks) {
    const result = await deployStack(stack, options);
    report.push(...result.report);
    outputs[stack.stackName] = result.outputs;
    outputsFile.value[stack.stackName] = result.outputs;
  }
  outputsFile.save();
  return { report, outputs };
}

async function deployStack(
  stack: StackArtifact,
  options: DeployerOptions,
): Promise<{ report: ReportLine[]; outputs: Record<string, unknown> }> {
  const { identity, logger } = options;
  const state = StateFile.open<StackState>({
    path: join(options.stateDir, 'deployer', `${stack.stackName}.json`),
    schema: StackStateSchema as z.ZodType<StackState>,
    initial: () => ({ resources: {} }),
    what: `what was deployed of stack ${stack.stackName}`,
    logger,
    // Without it the deploy creates each resource again, which the providers do idempotently.
    whenUnusable: 'start-empty',
  });
  const template = stack.template;
  const deployed = new Map<string, DeployedResource>();
  const ctx: IntrinsicContext = {
    accountId: identity.accountId,
    region: identity.region,
    stackName: stack.stackName,
    stackId: `arn:aws:cloudformation:${identity.region}:${identity.accountId}:stack/${stack.stackName}/${stableUuid(stack.stackName)}`,
    parameters: parameterDefaults(template),
    conditions: {},
    resource: (id) => deployed.get(id),
  };
  (ctx as { conditions: Record<string, boolean> }).conditions = evaluateConditions(template, ctx);

  const report: ReportLine[] = [];
  for (const logicalId of deploymentOrder(template)) {
    const resource = template.Resources[logicalId]!;
    if (resource.Condition && !ctx.conditions[resource.Condition]) continue;
    let properties: Record<string, unknown>;
    try {
      properties = resolve(resource.Properties ?? {}, ctx, `${logicalId}.Properties`) as Record<
        string,
        unknown
      >;
      properties = resolveDynamicReferences(
        properties,
        options.secretValue,
        `${logicalId}.Properties`,
      ) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof IntrinsicError)
        throw new DeployError(`${stack.stackName}/${logicalId}: ${err.message}`);
      throw err;
    }
    const propsHash = hash({ type: resource.Type, properties });
    const previous = state.value.resources[logicalId];
    const unchanged =
      previous !== undefined && previous.type === resource.Type && previous.propsHash === propsHash;
    const provider = options.providers[resource.Type] ?? options.fallback;
    let result: ApplyResult;
    try {
      result = await provider.apply({
        stackName: stack.stackName,
        logicalId,
        type: resource.Type,
        properties,
        metadata: resource.Metadata ?? {},
        physicalName: (max, sep = '-') => physicalName(stack.stackName, logicalId, max, sep),
        previous: previous?.type === resource.Type ? previous : undefined,
        unchanged,
        retainOnReplace: resource.UpdateReplacePolicy === 'Retain',
        assetPath: (key) => stack.assets.get(key),
      });
    } catch (err) {
      throw new DeployError(
        `${stack.stackName}/${logicalId} (${resource.Type}) could not be created: ${(err as Error).message}`,
      );
    }
    const record: DeployedResource = {
      type: resource.Type,
      propsHash,
      ref: result.ref,
      attributes: result.attributes,
    };
    deployed.set(logicalId, record);
    state.value.resources[logicalId] = record;
    const status: DeployStatus = !result.emulated
      ? 'not emulated'
      : previous === undefined
        ? 'created'
        : unchanged
          ? 'unchanged'
          : 'updated';
    report.push({
      stackName: stack.stackName,
      logicalId,
      type: resource.Type,
      status,
      physicalId: result.ref,
      note: result.note,
    });
  }

  for (const [logicalId, old] of Object.entries(state.value.resources)) {
    if (deployed.has(logicalId)) continue;
    const provider = options.providers[old.type] ?? options.fallback;
    try {
      await provider?.remove?.({ ...old, logicalId, stackName: stack.stackName });
    } catch (err) {
      logger.warn(
        `could not remove ${stack.stackName}/${logicalId} (${old.type}): ${(err as Error).message}`,
      );
    }
    delete state.value.resources[logicalId];
    report.push({
      stackName: stack.stackName,
      logicalId,
      type: old.type,
      status: 'removed',
      physicalId: old.ref,
    });
  }
  state.save();

  const outputs: Record<string, unknown> = {};
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    try {
      outputs[key] = resolve(output.Value, ctx, `Outputs.${key}`);
    } catch (err) {
      logger.warn(`output ${key} of ${stack.stackName} could not be resolved: ${(err as Error).message}`);
    }
  }
  return { report, outputs };
}

function parameterDefaults(template: CfnTemplate): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) params[name] = p.Default ?? '';
  return params;
}

function evaluateConditions(template: CfnTemplate, ctx: IntrinsicContext): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const pending = Object.entries(template.Conditions ?? {});
  // Conditions may refer to each other; evaluate until no progress.
  for (let round = 0; round < pending.length + 1; round++) {
    for (const [name, expr] of pending) {
      if (name in out) continue;
      try {
        out[name] = resolve(expr, { ...ctx, conditions: out }) === true;
      } catch {
        // depends on a condition not evaluated yet
      }
    }
  }
  return out;
}

/** Resources sorted so that every Ref, GetAtt, Sub reference and DependsOn comes first. */
export function deploymentOrder(template: CfnTemplate): string[] {
  const ids = Object.keys(template.Resources);
  const deps = new Map<string, Set<string>>();
  for (const id of ids) {
    const resource = template.Resources[id]!;
    const set = references(resource.Properties ?? {});
    const dependsOn = resource.DependsOn;
    for (const d of typeof dependsOn === 'string' ? [dependsOn] : (dependsOn ?? [])) set.add(d);
    deps.set(id, new Set([...set].filter((d) => d !== id && d in template.Resources)));
  }
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting')
      throw new DeployError(`circular dependency between resources: ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const d of [...deps.get(id)!].sort()) visit(d, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ids) visit(id, []);
  return order;
}

/** CloudFormation-style generated name, stable across deploys so state is kept. */
export function physicalName(
  stackName: string,
  logicalId: string,
  maxLength: number,
  separator = '-',
): string {
  const suffix = stableId(`${stackName}/${logicalId}`).slice(0, 12).toUpperCase();
  const clean = (s: string) => (separator === '_' ? s.replace(/[^A-Za-z0-9_]/g, '_') : s);
  const budget = maxLength - suffix.length - 2 * separator.length;
  const stackPart = clean(stackName).slice(0, Math.ceil(budget / 2));
  const idPart = clean(logicalId).slice(0, budget - stackPart.length);
  return [stackPart, idPart, suffix].join(separator);
}

/** A stack id's last part is a UUID on AWS; locally one derived from the stack name, stable across deploys. */
function stableUuid(input: string): string {
  const h = stableId(input);
  return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20, 32)].join('-');
}

function stableId(input: string): string {
  return createHash('sha256').update(input).digest('hex');
}

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
