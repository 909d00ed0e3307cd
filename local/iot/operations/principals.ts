/**
 * Things attached to certificates (AWS IoT API Reference: AttachThingPrincipal,
 * DetachThingPrincipal, ListThingPrincipals, ListPrincipalThings); the principal travels in the
 * `x-amzn-principal` header.
 */
import type { ThingPrincipalType } from '../types';
import { label, type Operation, ok, queryInt, withToken } from './binding';

export const PRINCIPAL_OPERATIONS: readonly Operation[] = [
  {
    name: 'AttachThingPrincipal',
    method: 'PUT',
    segments: ['things', '{}', 'principals'],
    handle: (ctx) => {
      const type = (ctx.req.query.get('thingPrincipalType') ?? 'NON_EXCLUSIVE_THING') as ThingPrincipalType;
      ctx.registry.attachThingPrincipal(label(ctx, 0), ctx.req.headers['x-amzn-principal'] ?? '', type);
      return ok({});
    },
  },
  {
    name: 'DetachThingPrincipal',
    method: 'DELETE',
    segments: ['things', '{}', 'principals'],
    handle: (ctx) => {
      ctx.registry.detachThingPrincipal(label(ctx, 0), ctx.req.headers['x-amzn-principal'] ?? '');
      return ok({});
    },
  },
  {
    name: 'ListThingPrincipals',
    method: 'GET',
    segments: ['things', '{}', 'principals'],
    handle: (ctx) => {
      const page = ctx.registry.listThingPrincipals(
        label(ctx, 0),
        ctx.req.query.get('nextToken') ?? undefined,
        queryInt(ctx.req, 'maxResults'),
      );
      return ok({ principals: page.items, ...withToken('nextToken', page.next) });
    },
  },
  {
    name: 'ListPrincipalThings',
    method: 'GET',
    segments: ['principals', 'things'],
    handle: ({ req, registry }) => {
      const page = registry.listPrincipalThings(
        req.headers['x-amzn-principal'] ?? '',
        req.query.get('nextToken') ?? undefined,
        queryInt(req, 'maxResults'),
      );
      return ok({ things: page.items, ...withToken('nextToken', page.next) });
    },
  },
];
