/**
 * The `iot` control-plane API (rest-json) as a gateway route: maps each operation's HTTP
 * binding (method, path labels, query, headers, JSON body, as in the AWS IoT Smithy model)
 * onto the registry.
 *
 * Routing: AWS SDK v3 signs these calls as `iot`; botocore 1.29 (AWS CLI 2.9) signs them as
 * `execute-api`, so requests are also recognised by their path. `/things/<name>/shadow` paths
 * belong to the Device Shadow data plane (`iotdata`) and are never claimed here.
 *
 * LIMITATIONS versus AWS: only the operations listed in OPERATIONS are served; others get
 * 404 UnknownOperationException from the gateway. Timestamps are epoch seconds.
 */
import { parseJsonObject } from '../gateway/protocol';
import type { AwsRequest, AwsResponse, ServiceRoute } from '../gateway/types';
import { invalidRequest, unknownOperation } from './errors';
import type {
  IotRegistry,
  StoredCertificate,
  StoredPolicy,
  ThingPrincipalType,
  TopicRulePayload,
} from './registry';
import { topicPatternOf } from './registry';

type Handler = (ctx: OperationContext) => AwsResponse | Promise<AwsResponse>;

interface OperationContext {
  readonly req: AwsRequest;
  readonly labels: readonly string[];
  readonly registry: IotRegistry;
  body(): Record<string, unknown>;
}

interface Operation {
  readonly name: string;
  readonly method: string;
  /** Path segments; `{}` is a label. */
  readonly segments: readonly string[];
  readonly handle: Handler;
}

const ok = (body?: object): AwsResponse => (body ? { status: 200, body } : { status: 200 });
const seconds = (ms: number) => ms / 1000;
const withToken = (key: string, token: string | undefined) => (token ? { [key]: token } : {});

function queryInt(req: AwsRequest, name: string): number | undefined {
  const v = req.query.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalidRequest(`${name} must be an integer; got ${v}`);
  return n;
}

function queryBool(req: AwsRequest, name: string): boolean | undefined {
  const v = req.query.get(name);
  if (v === null || v === '') return undefined;
  if (v !== 'true' && v !== 'false') throw invalidRequest(`${name} must be true or false; got ${v}`);
  return v === 'true';
}

function str(body: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw invalidRequest(`${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalidRequest(`${name} must be a string`);
  return v;
}

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

const certificateSummary = (c: StoredCertificate) => ({
  certificateArn: c.certificateArn,
  certificateId: c.certificateId,
  status: c.status,
  certificateMode: 'DEFAULT',
  creationDate: seconds(c.creationDate),
});
const policySummary = (p: StoredPolicy) => ({ policyName: p.policyName, policyArn: p.policyArn });

const label = (ctx: OperationContext, i: number) => ctx.labels[i] ?? '';

/** `topicRulePayload` is the HTTP payload (httpPayload trait): the body is the payload itself. */
function rulePayload(body: Record<string, unknown>): TopicRulePayload {
  const wrapped = body.topicRulePayload;
  if (body.sql === undefined && typeof wrapped === 'object' && wrapped !== null && !Array.isArray(wrapped)) {
    return wrapped as TopicRulePayload;
  }
  return body as unknown as TopicRulePayload;
}

export const OPERATIONS: readonly Operation[] = [
  // Things
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
    handle: (ctx) => {
      const t = ctx.registry.describeThing(label(ctx, 0));
      return ok({
        defaultClientId: t.thingName,
        thingName: t.thingName,
        thingId: t.thingId,
        thingArn: t.thingArn,
        ...(t.thingTypeName ? { thingTypeName: t.thingTypeName } : {}),
        attributes: t.attributes,
        version: t.version,
      });
    },
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
  // Thing principals
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
  // Policies
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
  // Certificates
  {
    name: 'CreateCertificateFromCsr',
    method: 'POST',
    segments: ['certificates'],
    handle: async (ctx) =>
      ok(
        await ctx.registry.createCertificateFromCsr(
          str(ctx.body(), 'certificateSigningRequest', true) ?? '',
          queryBool(ctx.req, 'setAsActive') ?? false,
        ),
      ),
  },
  {
    name: 'CreateKeysAndCertificate',
    method: 'POST',
    segments: ['keys-and-certificate'],
    handle: async (ctx) =>
      ok(await ctx.registry.createKeysAndCertificate(queryBool(ctx.req, 'setAsActive') ?? false)),
  },
  {
    name: 'DescribeCertificate',
    method: 'GET',
    segments: ['certificates', '{}'],
    handle: (ctx) => {
      const c = ctx.registry.describeCertificate(label(ctx, 0));
      return ok({
        certificateDescription: {
          certificateArn: c.certificateArn,
          certificateId: c.certificateId,
          status: c.status,
          certificatePem: c.certificatePem,
          ownedBy: c.certificateArn.split(':')[4],
          creationDate: seconds(c.creationDate),
          lastModifiedDate: seconds(c.lastModifiedDate),
          customerVersion: 1,
          generationId: c.generationId,
          validity: { notBefore: seconds(c.notBefore), notAfter: seconds(c.notAfter) },
          certificateMode: 'DEFAULT',
        },
      });
    },
  },
  {
    name: 'UpdateCertificate',
    method: 'PUT',
    segments: ['certificates', '{}'],
    handle: (ctx) => {
      const status = ctx.req.query.get('newStatus');
      if (!status) throw invalidRequest('newStatus is required');
      ctx.registry.updateCertificate(label(ctx, 0), status);
      return ok();
    },
  },
  {
    name: 'ListCertificates',
    method: 'GET',
    segments: ['certificates'],
    handle: ({ req, registry }) => {
      const page = registry.listCertificates(
        req.query.get('marker') ?? undefined,
        queryInt(req, 'pageSize'),
        queryBool(req, 'isAscendingOrder') ?? false,
      );
      return ok({ certificates: page.items.map(certificateSummary), ...withToken('nextMarker', page.next) });
    },
  },
  {
    name: 'DeleteCertificate',
    method: 'DELETE',
    segments: ['certificates', '{}'],
    handle: (ctx) => {
      ctx.registry.deleteCertificate(label(ctx, 0), queryBool(ctx.req, 'forceDelete') ?? false);
      return ok();
    },
  },
  // Endpoint
  {
    name: 'DescribeEndpoint',
    method: 'GET',
    segments: ['endpoint'],
    handle: ({ req, registry }) =>
      ok({ endpointAddress: registry.describeEndpoint(req.query.get('endpointType') ?? undefined) }),
  },
  // Topic rules
  {
    name: 'CreateTopicRule',
    method: 'POST',
    segments: ['rules', '{}'],
    handle: (ctx) => {
      ctx.registry.createTopicRule(label(ctx, 0), rulePayload(ctx.body()));
      return ok();
    },
  },
  {
    name: 'ReplaceTopicRule',
    method: 'PATCH',
    segments: ['rules', '{}'],
    handle: (ctx) => {
      ctx.registry.replaceTopicRule(label(ctx, 0), rulePayload(ctx.body()));
      return ok();
    },
  },
  {
    name: 'GetTopicRule',
    method: 'GET',
    segments: ['rules', '{}'],
    handle: (ctx) => {
      const { ruleArn, ...rule } = ctx.registry.getTopicRule(label(ctx, 0));
      return ok({ ruleArn, rule: { ...rule, createdAt: seconds(rule.createdAt) } });
    },
  },
  {
    name: 'ListTopicRules',
    method: 'GET',
    segments: ['rules'],
    handle: ({ req, registry }) => {
      const topic = req.query.get('topic') ?? undefined;
      const ruleDisabled = queryBool(req, 'ruleDisabled');
      const nextToken = req.query.get('nextToken') ?? undefined;
      const maxResults = queryInt(req, 'maxResults');
      const page = registry.listTopicRules({
        ...(topic !== undefined ? { topic } : {}),
        ...(ruleDisabled !== undefined ? { ruleDisabled } : {}),
        ...(nextToken ? { nextToken } : {}),
        ...(maxResults !== undefined ? { maxResults } : {}),
      });
      return ok({
        rules: page.items.map((r) => ({
          ruleArn: r.ruleArn,
          ruleName: r.ruleName,
          topicPattern: topicPatternOf(r.sql),
          createdAt: seconds(r.createdAt),
          ruleDisabled: r.ruleDisabled,
        })),
        ...withToken('nextToken', page.next),
      });
    },
  },
  {
    name: 'DeleteTopicRule',
    method: 'DELETE',
    segments: ['rules', '{}'],
    handle: (ctx) => {
      ctx.registry.deleteTopicRule(label(ctx, 0));
      return ok();
    },
  },
];

/** Path segments of the raw path, each percent-decoded (labels such as certificate ARNs hold an encoded '/'). */
function segmentsOf(rawPath: string): string[] | undefined {
  try {
    return rawPath
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

function findOperation(req: AwsRequest): { op: Operation; labels: string[] } | undefined {
  const segments = segmentsOf(req.rawPath);
  if (!segments) return undefined;
  for (const op of OPERATIONS) {
    if (op.method !== req.method || op.segments.length !== segments.length) continue;
    const labels: string[] = [];
    const fits = op.segments.every((s, i) => {
      const actual = segments[i] ?? '';
      if (s === '{}') {
        labels.push(actual);
        return actual !== '';
      }
      return s === actual;
    });
    if (fits) return { op, labels };
  }
  return undefined;
}

const IOT_PATH_ROOTS = new Set(OPERATIONS.map((o) => o.segments[0]));

export function createControlPlaneRoute(registry: IotRegistry): ServiceRoute {
  return {
    name: 'iot',
    protocol: 'rest-json',
    matches(req) {
      if (req.signingService && req.signingService !== 'iot' && req.signingService !== 'execute-api')
        return false;
      if (req.target) return false;
      const segments = segmentsOf(req.rawPath) ?? [];
      // The Device Shadow data plane shares the /things prefix.
      if (segments[0] === 'things' && segments[2] === 'shadow') return false;
      if (req.signingService === 'iot') return true;
      return IOT_PATH_ROOTS.has(segments[0]) && findOperation(req) !== undefined;
    },
    async handle(req) {
      const found = findOperation(req);
      if (!found) {
        throw unknownOperation(`No IoT operation matches ${req.method} ${req.path}`);
      }
      let body: Record<string, unknown> | undefined;
      return found.op.handle({
        req,
        labels: found.labels,
        registry,
        body: () => {
          body ??= parseJsonObject(req.body, 'InvalidRequestException');
          return body;
        },
      });
    },
  };
}
