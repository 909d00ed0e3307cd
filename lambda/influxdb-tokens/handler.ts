import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type InfluxAdmin, issueTokens, revokeTokens } from './tokens';

/**
 * The InfluxDB token step as a Lambda-backed custom resource (AWS CloudFormation User Guide,
 * "Custom resources", "Custom resource request objects" and "Custom resource response
 * objects"): on Create and Update it issues a write token and a read token for the bucket
 * (tokens.ts) and stores each as `{"token": ...}` in its Secrets Manager secret; the physical
 * id names the two authorizations, so the Delete that CloudFormation sends for the old id
 * after an update, or on stack deletion, revokes them. The answer is a PUT of the response
 * object to the presigned `ResponseURL`. Nothing secret is logged or returned as data.
 *
 * Resource properties: AdminSecretArn (the generated admin credentials, `{username,
 * password}`), Url, Organization, Bucket, RetentionSeconds, WriteTokenSecretArn,
 * ReadTokenSecretArn.
 */

interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
}

const PHYSICAL_PREFIX = 'influxdb-tokens:';

export async function handler(event: CustomResourceEvent): Promise<void> {
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = '';
  let physicalId = event.PhysicalResourceId ?? `${PHYSICAL_PREFIX}none`;
  try {
    physicalId = await handle(event, new SecretsManagerClient({}));
  } catch (error) {
    status = 'FAILED';
    reason = `${(error as Error).name}: ${(error as Error).message}`;
    console.error(JSON.stringify({ level: 'ERROR', message: 'token step failed', reason }));
  }
  await respond(event, {
    Status: status,
    Reason: reason || 'see the function log',
    PhysicalResourceId: physicalId,
  });
}

export async function handle(event: CustomResourceEvent, secrets: SecretsManagerClient): Promise<string> {
  const p = event.ResourceProperties;
  const text = (key: string) => {
    const v = p[key];
    if (typeof v !== 'string' || v === '') throw new Error(`resource property ${key} is missing`);
    return v;
  };
  const admin = async (): Promise<InfluxAdmin> => {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: text('AdminSecretArn') }));
    const value = JSON.parse(out.SecretString ?? '{}') as { username?: string; password?: string };
    if (!value.username || !value.password)
      throw new Error('the admin secret holds no username and password');
    return {
      url: text('Url'),
      username: value.username,
      password: value.password,
      organization: text('Organization'),
      bucket: text('Bucket'),
    };
  };
  if (event.RequestType === 'Delete') {
    const ids = (event.PhysicalResourceId ?? '').startsWith(PHYSICAL_PREFIX)
      ? (event.PhysicalResourceId ?? '')
          .slice(PHYSICAL_PREFIX.length)
          .split(',')
          .filter((x) => x && x !== 'none')
      : [];
    try {
      await revokeTokens(await admin(), ids);
    } catch (error) {
      // An instance deleted before this resource, or unreachable, leaves nothing to revoke;
      // failing here would block the stack's deletion.
      console.warn(
        JSON.stringify({ level: 'WARN', message: 'tokens not revoked', reason: (error as Error).message }),
      );
    }
    return event.PhysicalResourceId ?? `${PHYSICAL_PREFIX}none`;
  }
  const retentionSeconds = Number(p.RetentionSeconds ?? 0);
  const tokens = await issueTokens(await admin(), {
    retentionSeconds: Number.isFinite(retentionSeconds) ? retentionSeconds : 0,
    description: `zonectl ${event.StackId.split('/')[1] ?? ''}`,
  });
  await secrets.send(
    new PutSecretValueCommand({
      SecretId: text('WriteTokenSecretArn'),
      SecretString: JSON.stringify({ token: tokens.write.token }),
    }),
  );
  await secrets.send(
    new PutSecretValueCommand({
      SecretId: text('ReadTokenSecretArn'),
      SecretString: JSON.stringify({ token: tokens.read.token }),
    }),
  );
  return `${PHYSICAL_PREFIX}${tokens.write.id},${tokens.read.id}`;
}

async function respond(
  event: CustomResourceEvent,
  r: { Status: 'SUCCESS' | 'FAILED'; Reason: string; PhysicalResourceId: string },
): Promise<void> {
  const body = JSON.stringify({
    ...r,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: {},
  });
  // The presigned URL is signed for an empty content type.
  const res = await fetch(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '' }, body });
  if (!res.ok) throw new Error(`the response to CloudFormation was refused: HTTP ${res.status}`);
}
