/**
 * The InfluxDB 2 HTTP API of one local instance (InfluxDB OSS v2 API reference): health,
 * sign-in, organizations, buckets, authorizations, writes (`/api/v2/write`) and InfluxQL
 * queries (`/query`, the 1.x compatibility API, with every bucket mapped to a database of its
 * own name as InfluxDB 2's virtual DBRP mappings do). Requests are authorized by an API token
 * (`Authorization: Token|Bearer <token>`, or v1 `u`/`p` and Basic with the token as password)
 * or the admin session cookie from `/api/v2/signin`.
 *
 * LIMITATIONS versus InfluxDB: no Flux (`/api/v2/query` answers 400 saying to use InfluxQL);
 * one organization, one user and the buckets the instance was created with; no tasks,
 * dashboards, checks, replications or `/api/v2/delete`; tokens cannot be listed back.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import {
  forbidden,
  InfluxHttpError,
  invalid,
  notFound,
  tooLarge,
  unauthorized,
  unprocessable,
} from './errors';
import { DURATION_NS, execute, InfluxQLError, parseInfluxQL, rfc3339 } from './influxql';

import { LineProtocolError, PRECISIONS, type Precision, parseLineProtocol } from './line-protocol';
import type { InstanceStore, Permission, Principal } from './store';

/** The `epoch` units /query accepts (InfluxDB 1.x compatibility API). */
const EPOCH_UNITS = new Set(['ns', 'u', 'µ', 'ms', 's', 'm', 'h']);

/** Largest write body accepted, as InfluxDB's default `http-max-body-size` (25 MB). */
export const MAX_BODY_BYTES = 25_000_000;
const SESSION_COOKIE = 'influxdb-oss-session';
const VERSION = 'v2.7-local';

export interface ApiContext {
  readonly store: InstanceStore;
  readonly now: () => number;
  readonly startedAt: string;
  readonly sessions: Set<string>;
  readonly log: (line: string) => void;
}

export async function handleInfluxRequest(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const body = await readBody(req);
    await route(ctx, req, res, body);
  } catch (err) {
    if (err instanceof InfluxHttpError) {
      send(res, err.status, { code: err.code, message: err.message, ...err.extra });
      return;
    }
    ctx.log(`internal error: ${(err as Error).message}`);
    send(res, 500, { code: 'internal error', message: (err as Error).message });
  }
}

async function route(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://localhost');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = (req.method ?? 'GET').toUpperCase();
  const nowNs = () => BigInt(ctx.now()) * 1_000_000n;

  if (path === '/health' && method === 'GET') {
    return send(res, 200, {
      name: 'influxdb',
      message: 'ready for queries and writes',
      status: 'pass',
      checks: [],
      version: VERSION,
      commit: 'local',
    });
  }
  if (path === '/ping' && (method === 'GET' || method === 'HEAD')) {
    res.writeHead(204, { 'X-Influxdb-Version': VERSION, 'X-Influxdb-Build': 'OSS' }).end();
    return;
  }
  if (path === '/ready' && method === 'GET') {
    return send(res, 200, {
      status: 'ready',
      started: ctx.startedAt,
      up: `${Math.round(process.uptime())}s`,
    });
  }
  if (path === '/api/v2/signin' && method === 'POST') {
    const basic = basicAuth(req);
    if (!basic || !ctx.store.checkPassword(basic.user, basic.password)) throw unauthorized('Unauthorized');
    const session = randomBytes(32).toString('base64url');
    ctx.sessions.add(session);
    res.writeHead(204, { 'Set-Cookie': `${SESSION_COOKIE}=${session}; Path=/api/; HttpOnly; Secure` }).end();
    return;
  }
  if (path === '/api/v2/signout' && method === 'POST') {
    const s = sessionOf(req);
    if (s) ctx.sessions.delete(s);
    res.writeHead(204).end();
    return;
  }

  const who = principalOf(ctx, req, url);
  if (path === '/api/v2/write' && method === 'POST') return write(ctx, req, res, url, body, who, nowNs());
  if (path === '/query' && (method === 'GET' || method === 'POST'))
    return query(ctx, req, res, url, body, who, nowNs());
  if (path === '/api/v2/query' && method === 'POST') {
    throw invalid(
      'Flux queries are not supported by the local InfluxDB; use InfluxQL on /query (1.x compatibility API)',
    );
  }
  if (path === '/api/v2/orgs' && method === 'GET') {
    const org = ctx.store.organization;
    const name = url.searchParams.get('org');
    return send(res, 200, { orgs: name && name !== org.name ? [] : [{ id: org.id, name: org.name }] });
  }
  if (path === '/api/v2/buckets' && method === 'GET') {
    const name = url.searchParams.get('name');
    const buckets = ctx.store
      .buckets()
      .filter((b) => !name || b.name === name)
      .filter(
        (b) => who.kind === 'user' || ctx.store.allowed(who, 'read', b) || ctx.store.allowed(who, 'write', b),
      );
    return send(res, 200, { buckets: buckets.map(bucketJson) });
  }
  const bucketPatch = /^\/api\/v2\/buckets\/([^/]+)$/.exec(path);
  if (bucketPatch && method === 'PATCH') {
    requireUser(who);
    const patch = json(body) as { retentionRules?: Array<{ everySeconds?: number }> };
    const every = patch.retentionRules?.[0]?.everySeconds ?? 0;
    if (!Number.isInteger(every) || every < 0 || (every > 0 && every < 3600)) {
      throw invalid('retention policy duration must be at least 1h0m0s');
    }
    const b = ctx.store.setRetention(decodeURIComponent(bucketPatch[1]!), every);
    if (!b) throw notFound('bucket not found');
    return send(res, 200, bucketJson(b));
  }
  if (path === '/api/v2/authorizations' && method === 'POST') {
    requireUser(who);
    const input = json(body) as { orgID?: string; description?: string; permissions?: Permission[] };
    if (input.orgID !== ctx.store.organization.id)
      throw notFound(`organization ${input.orgID ?? ''} not found`);
    const permissions = input.permissions ?? [];
    if (
      permissions.length === 0 ||
      permissions.some((p) => !['read', 'write'].includes(p.action) || typeof p.resource?.type !== 'string')
    ) {
      throw invalid(
        'permissions must be a non-empty list of {action: read|write, resource: {type, id?, orgID?}}',
      );
    }
    const { auth, token } = ctx.store.createAuthorization(input.orgID, input.description ?? '', permissions);
    return send(res, 201, {
      id: auth.id,
      token,
      status: 'active',
      orgID: auth.orgID,
      description: auth.description,
      permissions: auth.permissions,
      createdAt: auth.createdAt,
    });
  }
  if (path === '/api/v2/authorizations' && method === 'GET') {
    requireUser(who);
    return send(res, 200, {
      authorizations: ctx.store.authorizations().map((a) => ({
        id: a.id,
        status: 'active',
        orgID: a.orgID,
        description: a.description,
        permissions: a.permissions,
      })),
    });
  }
  const authDelete = /^\/api\/v2\/authorizations\/([^/]+)$/.exec(path);
  if (authDelete && method === 'DELETE') {
    requireUser(who);
    if (!ctx.store.deleteAuthorization(decodeURIComponent(authDelete[1]!)))
      throw notFound('authorization not found');
    res.writeHead(204).end();
    return;
  }
  throw notFound('path not found');
}

function write(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
  who: Principal,
  nowNs: bigint,
): void {
  const org = url.searchParams.get('org') ?? url.searchParams.get('orgID');
  if (!org) throw invalid('Please provide either orgID or org');
  if (org !== ctx.store.organization.name && org !== ctx.store.organization.id) {
    throw notFound(`organization name "${org}" not found`);
  }
  const bucketName = url.searchParams.get('bucket');
  if (!bucketName) throw invalid('Please provide bucket');
  const bucket = ctx.store.bucketByName(bucketName);
  if (!bucket) throw notFound(`bucket "${bucketName}" not found`);
  if (!ctx.store.allowed(who, 'write', bucket)) throw forbidden(`insufficient permissions for write`);
  const precision = (url.searchParams.get('precision') ?? 'ns') as Precision;
  if (!PRECISIONS.includes(precision)) throw invalid(`invalid precision "${precision}"; use ns, us, ms or s`);
  const text = decode(req, body).toString('utf8');
  let points: ReturnType<typeof parseLineProtocol>;
  try {
    points = parseLineProtocol(text, precision, nowNs);
  } catch (err) {
    if (err instanceof LineProtocolError) throw invalid(err.message, { line: err.line });
    throw err;
  }
  const outcome = ctx.store.write(bucket, points, nowNs);
  const problems: string[] = [];
  if (outcome.beyondRetention > 0)
    problems.push(`points beyond retention policy dropped=${outcome.beyondRetention}`);
  if (outcome.typeConflicts.length > 0) {
    problems.push(`${outcome.typeConflicts[0]} dropped=${outcome.typeConflicts.length}`);
  }
  if (problems.length > 0) {
    throw unprocessable(`failure writing points to database: partial write: ${problems.join('; ')}`);
  }
  res.writeHead(204).end();
}

function query(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
  who: Principal,
  nowNs: bigint,
): void {
  const form = req.headers['content-type']?.includes('application/x-www-form-urlencoded')
    ? new URLSearchParams(body.toString('utf8'))
    : new URLSearchParams();
  const param = (k: string) => url.searchParams.get(k) ?? form.get(k);
  const q = param('q');
  if (!q) throw invalid('missing required parameter "q"');
  const db = param('db');
  const epoch = param('epoch');
  // epoch= takes ns, u/µ, ms, s, m and h (InfluxDB 1.x compatibility API, /query).
  const factor = EPOCH_UNITS.has(epoch ?? '') ? DURATION_NS : {};
  const formatTime = epoch && factor[epoch] ? (ns: bigint) => Number(ns / factor[epoch]!) : rfc3339;
  let result: Record<string, unknown>;
  try {
    const stmt = parseInfluxQL(q, nowNs);
    if (!db) throw new InfluxQLError('database name required');
    const bucket = ctx.store.bucketByName(db.split('/')[0]!);
    if (!bucket) throw new InfluxQLError(`database not found: ${db}`);
    if (!ctx.store.allowed(who, 'read', bucket)) throw forbidden('insufficient permissions for read');
    const series = execute(stmt, ctx.store.read(bucket, nowNs), formatTime);
    result = { statement_id: 0, ...(series.length > 0 ? { series } : {}) };
  } catch (err) {
    if (!(err instanceof InfluxQLError)) throw err;
    result = { statement_id: 0, error: err.message };
  }
  send(res, 200, { results: [result] });
}

function principalOf(ctx: ApiContext, req: IncomingMessage, url: URL): Principal {
  const session = sessionOf(req);
  if (session && ctx.sessions.has(session)) return { kind: 'user' };
  const header = req.headers.authorization ?? '';
  let token: string | undefined;
  const scheme = /^(Token|Bearer)\s+(.+)$/i.exec(header);
  if (scheme) token = scheme[2]!.trim();
  else if (/^Basic\s/i.test(header)) token = basicAuth(req)?.password;
  else token = url.searchParams.get('p') ?? undefined;
  if (!token) throw unauthorized();
  const auth = ctx.store.findToken(token);
  if (!auth) throw unauthorized();
  return { kind: 'token', auth };
}

function requireUser(who: Principal): void {
  if (who.kind !== 'user')
    throw forbidden('this local InfluxDB lets only the signed-in admin user manage the instance');
}

function sessionOf(req: IncomingMessage): string | undefined {
  const cookie = req.headers.cookie ?? '';
  return new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(cookie)?.[1];
}

function basicAuth(req: IncomingMessage): { user: string; password: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { user: text.slice(0, i), password: text.slice(i + 1) };
}

function bucketJson(b: { id: string; name: string; orgID: string; retentionSeconds: number }) {
  return {
    id: b.id,
    name: b.name,
    orgID: b.orgID,
    type: 'user',
    retentionRules: b.retentionSeconds > 0 ? [{ type: 'expire', everySeconds: b.retentionSeconds }] : [],
  };
}

function json(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw invalid('the request body is not JSON');
  }
}

function decode(req: IncomingMessage, body: Buffer): Buffer {
  if ((req.headers['content-encoding'] ?? '').toLowerCase() !== 'gzip') return body;
  try {
    return gunzipSync(body, { maxOutputLength: MAX_BODY_BYTES });
  } catch {
    throw invalid('the gzipped request body could not be decompressed (or is larger than the limit)');
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) over = true;
      else chunks.push(c);
    });
    req.on('end', () => (over ? reject(tooLarge(MAX_BODY_BYTES)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
