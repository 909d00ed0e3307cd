/**
 * The provisioning template operations of the `iot` control plane (rest-json), as the AWS IoT
 * model binds them: `/provisioning-templates[/{templateName}[/versions[/{versionId}]]]`.
 * Registered on the gateway before the `iot` route, which serves the rest of the IoT API.
 * Timestamps are epoch seconds.
 */
import type { AwsRequest, AwsResponse, ServiceRoute } from '../gateway';
import { parseJsonObject } from '../gateway';
import { invalidRequest, unknownOperation } from './errors';
import type { ProvisioningTemplateRecord, ProvisioningTemplates, TemplateVersion } from './types';

const ROOT = 'provisioning-templates';
const seconds = (ms: number) => ms / 1000;
const ok = (body?: object): AwsResponse => (body ? { status: 200, body } : { status: 200 });

function segmentsOf(rawPath: string): string[] {
  try {
    return rawPath
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return [];
  }
}

const summary = (t: ProvisioningTemplateRecord) => ({
  templateArn: t.templateArn,
  templateName: t.templateName,
  ...(t.description !== undefined ? { description: t.description } : {}),
  creationDate: seconds(t.creationDate),
  lastModifiedDate: seconds(t.lastModifiedDate),
  enabled: t.enabled,
  type: t.type,
});

const versionSummary = (t: ProvisioningTemplateRecord, v: TemplateVersion) => ({
  versionId: v.versionId,
  creationDate: seconds(v.creationDate),
  isDefaultVersion: v.versionId === t.defaultVersionId,
});

function page<T>(items: T[], req: AwsRequest): { items: T[]; nextToken?: string } {
  const max = req.query.get('maxResults');
  const size = max === null ? 250 : Number(max);
  if (!Number.isInteger(size) || size < 1 || size > 250) throw invalidRequest('maxResults must be 1-250');
  const token = req.query.get('nextToken');
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalidRequest('Invalid nextToken');
  const slice = items.slice(start, start + size);
  return start + size < items.length
    ? { items: slice, nextToken: Buffer.from(String(start + size)).toString('base64url') }
    : { items: slice };
}

const versionOf = (text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw invalidRequest(`Invalid versionId ${String(text)}`);
  return n;
};

export function createProvisioningRoute(templates: ProvisioningTemplates): ServiceRoute {
  return {
    name: 'iot',
    protocol: 'rest-json',
    matches(req) {
      if (req.signingService && req.signingService !== 'iot' && req.signingService !== 'execute-api')
        return false;
      return !req.target && segmentsOf(req.rawPath)[0] === ROOT;
    },
    async handle(req) {
      const [, name, sub, versionId] = segmentsOf(req.rawPath);
      const body = () => parseJsonObject(req.body, 'InvalidRequestException');
      const m = req.method;
      if (name === undefined) {
        if (m === 'POST') {
          const b = body();
          const created = templates.create({
            templateName: b.templateName as string,
            templateBody: b.templateBody as string,
            provisioningRoleArn: b.provisioningRoleArn as string,
            ...(b.description !== undefined ? { description: String(b.description) } : {}),
            ...(b.enabled !== undefined ? { enabled: b.enabled === true } : {}),
            ...(b.type !== undefined ? { type: b.type as 'FLEET_PROVISIONING' } : {}),
            ...(b.preProvisioningHook ? { preProvisioningHook: b.preProvisioningHook as never } : {}),
            ...(b.tags ? { tags: b.tags as never } : {}),
          });
          return ok({
            templateArn: created.templateArn,
            templateName: created.templateName,
            defaultVersionId: created.defaultVersionId,
          });
        }
        if (m === 'GET') {
          const p = page(templates.list(), req);
          return ok({ templates: p.items.map(summary), ...(p.nextToken ? { nextToken: p.nextToken } : {}) });
        }
      } else if (sub === undefined) {
        if (m === 'GET') {
          const t = templates.describe(name);
          const version = t.versions.find((v) => v.versionId === t.defaultVersionId)!;
          return ok({
            ...summary(t),
            provisioningRoleArn: t.provisioningRoleArn,
            defaultVersionId: t.defaultVersionId,
            templateBody: version.templateBody,
            ...(t.preProvisioningHook ? { preProvisioningHook: t.preProvisioningHook } : {}),
          });
        }
        if (m === 'PATCH') {
          const b = body();
          templates.update(name, {
            ...(b.description !== undefined ? { description: String(b.description) } : {}),
            ...(b.enabled !== undefined ? { enabled: b.enabled === true } : {}),
            ...(b.defaultVersionId !== undefined ? { defaultVersionId: Number(b.defaultVersionId) } : {}),
            ...(b.provisioningRoleArn !== undefined
              ? { provisioningRoleArn: String(b.provisioningRoleArn) }
              : {}),
            ...(b.preProvisioningHook ? { preProvisioningHook: b.preProvisioningHook as never } : {}),
            ...(b.removePreProvisioningHook === true ? { removePreProvisioningHook: true } : {}),
          });
          return ok({});
        }
        if (m === 'DELETE') {
          templates.delete(name);
          return ok({});
        }
      } else if (sub === 'versions') {
        if (versionId === undefined && m === 'POST') {
          const setAsDefault = req.query.get('setAsDefault') === 'true';
          const t = templates.describe(name);
          const v = templates.createVersion(name, body().templateBody as string, setAsDefault);
          return ok({
            templateArn: t.templateArn,
            templateName: t.templateName,
            versionId: v.versionId,
            isDefaultVersion: setAsDefault,
          });
        }
        if (versionId === undefined && m === 'GET') {
          const t = templates.describe(name);
          const p = page(t.versions, req);
          return ok({
            versions: p.items.map((v) => versionSummary(t, v)),
            ...(p.nextToken ? { nextToken: p.nextToken } : {}),
          });
        }
        if (versionId !== undefined && m === 'GET') {
          const t = templates.describe(name);
          const v = t.versions.find((x) => x.versionId === versionOf(versionId));
          if (!v) throw invalidRequest(`Version ${versionId} of ${name} does not exist`);
          return ok({ ...versionSummary(t, v), templateBody: v.templateBody });
        }
        if (versionId !== undefined && m === 'DELETE') {
          templates.deleteVersion(name, versionOf(versionId));
          return ok({});
        }
      }
      throw unknownOperation(`No provisioning template operation matches ${m} ${req.path}`);
    },
  };
}
