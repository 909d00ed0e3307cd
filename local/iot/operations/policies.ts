/**
 * Policies and their attachment to certificates (AWS IoT API Reference: CreatePolicy,
 * GetPolicy, ListPolicies, DeletePolicy, AttachPolicy, DetachPolicy, ListAttachedPolicies,
 * ListTargetsForPolicy).
 */
import type { StoredPolicy } from '../types';
import { label, type Operation, ok, queryBool, queryInt, seconds, str, withToken } from './binding';

const policySummary = (p: StoredPolicy) => ({ policyName: p.policyName, policyArn: p.policyArn });

export const POLICY_OPERATIONS: readonly Operation[] = [
  {
    name: 'CreatePolicy',
    method: 'POST',
    segments: ['policies', '{}'],
    handle: (ctx) =>
      ok(ctx.registry.createPolicy(label(ctx, 0), str(ctx.body(), 'policyDocument', true) ?? '')),
  },
  {
    name: 'GetPolicy',
    method: 'GET',
    segments: ['policies', '{}'],
    handle: (ctx) => {
      const p = ctx.registry.getPolicy(label(ctx, 0));
      return ok({
        policyName: p.policyName,
        policyArn: p.policyArn,
        policyDocument: p.policyDocument,
        defaultVersionId: p.defaultVersionId,
        creationDate: seconds(p.creationDate),
        lastModifiedDate: seconds(p.lastModifiedDate),
        generationId: p.generationId,
      });
    },
  },
  {
    name: 'ListPolicies',
    method: 'GET',
    segments: ['policies'],
    handle: ({ req, registry }) => {
      const page = registry.listPolicies(
        req.query.get('marker') ?? undefined,
        queryInt(req, 'pageSize'),
        queryBool(req, 'isAscendingOrder') ?? true,
      );
      return ok({ policies: page.items.map(policySummary), ...withToken('nextMarker', page.next) });
    },
  },
  {
    name: 'DeletePolicy',
    method: 'DELETE',
    segments: ['policies', '{}'],
    handle: (ctx) => {
      ctx.registry.deletePolicy(label(ctx, 0));
      return ok();
    },
  },
  {
    name: 'AttachPolicy',
    method: 'PUT',
    segments: ['target-policies', '{}'],
    handle: (ctx) => {
      ctx.registry.attachPolicy(label(ctx, 0), str(ctx.body(), 'target', true) ?? '');
      return ok();
    },
  },
  {
    name: 'DetachPolicy',
    method: 'POST',
    segments: ['target-policies', '{}'],
    handle: (ctx) => {
      ctx.registry.detachPolicy(label(ctx, 0), str(ctx.body(), 'target', true) ?? '');
      return ok();
    },
  },
  {
    name: 'ListAttachedPolicies',
    method: 'POST',
    segments: ['attached-policies', '{}'],
    handle: (ctx) => {
      const page = ctx.registry.listAttachedPolicies(
        label(ctx, 0),
        ctx.req.query.get('marker') ?? undefined,
        queryInt(ctx.req, 'pageSize'),
      );
      return ok({ policies: page.items.map(policySummary), ...withToken('nextMarker', page.next) });
    },
  },
  {
    name: 'ListTargetsForPolicy',
    method: 'POST',
    segments: ['policy-targets', '{}'],
    handle: (ctx) => {
      const page = ctx.registry.listTargetsForPolicy(
        label(ctx, 0),
        ctx.req.query.get('marker') ?? undefined,
        queryInt(ctx.req, 'pageSize'),
      );
      return ok({ targets: page.items, ...withToken('nextMarker', page.next) });
    },
  },
];
