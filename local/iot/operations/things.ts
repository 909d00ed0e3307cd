/** Things (AWS IoT API Reference: CreateThing, DescribeThing, ListThings, UpdateThing, DeleteThing). */
import { invalidRequest } from '../errors';
import type { ThingRecord } from '../types';
import { label, type Operation, ok, queryBool, queryInt, str, withToken } from './binding';

function attributePayload(body: Record<string, unknown>): {
  attributes?: Record<string, string>;
  merge?: boolean;
} {
  const p = body.attributePayload;
  if (p === undefined || p === null) return {};
  if (typeof p !== 'object' || Array.isArray(p)) throw invalidRequest('attributePayload must be an object');
  const { attributes, merge } = p as { attributes?: unknown; merge?: unknown };
  if (
    attributes !== undefined &&
    (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes))
  ) {
    throw invalidRequest('attributePayload.attributes must be a map of strings');
  }
  return {
    ...(attributes ? { attributes: attributes as Record<string, string> } : {}),
    ...(typeof merge === 'boolean' ? { merge } : {}),
  };
}

/** DescribeThing's response for a thing (AWS IoT API Reference, "DescribeThing" > Response Syntax). */
export function describeThingOutput(t: ThingRecord): Record<string, unknown> {
  return {
    defaultClientId: t.thingName,
    thingName: t.thingName,
    thingId: t.thingId,
    thingArn: t.thingArn,
    ...(t.thingTypeName ? { thingTypeName: t.thingTypeName } : {}),
    attributes: t.attributes,
    version: t.version,
  };
}

export const THING_OPERATIONS: readonly Operation[] = [
  {
    name: 'CreateThing',
    method: 'POST',
    segments: ['things', '{}'],
    handle: (ctx) => {
      const body = ctx.body();
      const { attributes } = attributePayload(body);
      const thingTypeName = str(body, 'thingTypeName');
      return ok(
        ctx.registry.createThing({
          thingName: label(ctx, 0),
          ...(thingTypeName ? { thingTypeName } : {}),
          ...(attributes ? { attributes } : {}),
        }),
      );
    },
  },
  {
    name: 'DescribeThing',
    method: 'GET',
    segments: ['things', '{}'],
    handle: (ctx) => ok(describeThingOutput(ctx.registry.describeThing(label(ctx, 0)))),
  },
  {
    name: 'ListThings',
    method: 'GET',
    segments: ['things'],
    handle: ({ req, registry }) => {
      const q = (n: string) => req.query.get(n) ?? undefined;
      const page = registry.listThings({
        ...(q('attributeName') !== undefined ? { attributeName: q('attributeName') } : {}),
        ...(q('attributeValue') !== undefined ? { attributeValue: q('attributeValue') } : {}),
        ...(q('thingTypeName') !== undefined ? { thingTypeName: q('thingTypeName') } : {}),
        ...(q('nextToken') ? { nextToken: q('nextToken') } : {}),
        ...(queryInt(req, 'maxResults') !== undefined ? { maxResults: queryInt(req, 'maxResults') } : {}),
        ...(queryBool(req, 'usePrefixAttributeValue') !== undefined
          ? { usePrefixAttributeValue: queryBool(req, 'usePrefixAttributeValue') }
          : {}),
      });
      return ok({
        things: page.items.map((t) => ({
          thingName: t.thingName,
          thingArn: t.thingArn,
          ...(t.thingTypeName ? { thingTypeName: t.thingTypeName } : {}),
          attributes: t.attributes,
          version: t.version,
        })),
        ...withToken('nextToken', page.next),
      });
    },
  },
  {
    name: 'UpdateThing',
    method: 'PATCH',
    segments: ['things', '{}'],
    handle: (ctx) => {
      const body = ctx.body();
      const { attributes, merge } = attributePayload(body);
      const thingTypeName = str(body, 'thingTypeName');
      const expectedVersion = body.expectedVersion;
      if (expectedVersion !== undefined && typeof expectedVersion !== 'number') {
        throw invalidRequest('expectedVersion must be a number');
      }
      ctx.registry.updateThing({
        thingName: label(ctx, 0),
        ...(thingTypeName ? { thingTypeName } : {}),
        ...(body.removeThingType === true ? { removeThingType: true } : {}),
        ...(attributes ? { attributes } : {}),
        ...(merge !== undefined ? { merge } : {}),
        ...(typeof expectedVersion === 'number' ? { expectedVersion } : {}),
      });
      return ok({});
    },
  },
  {
    name: 'DeleteThing',
    method: 'DELETE',
    segments: ['things', '{}'],
    handle: (ctx) => {
      ctx.registry.deleteThing(label(ctx, 0), queryInt(ctx.req, 'expectedVersion'));
      return ok({});
    },
  },
];
