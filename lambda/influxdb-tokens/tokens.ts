/**
 * The token step of the InfluxDB engine, free of any AWS SDK: with the admin user's
 * credentials, make one API token that may only write the readings bucket (for the ingest
 * function) and one that may only read it (for dashboards and people), and set the bucket's
 * retention.
 *
 * Why: Timestream for InfluxDB creates the admin user, organization and bucket, and keeps
 * their names and the admin password in a secret, but creates no API token ("Connecting to an
 * Amazon Timestream for InfluxDB DB instance"; "Database authentication with Amazon Timestream
 * for InfluxDB" recommends tokens scoped to what each client needs). Giving the functions the
 * admin password would let them delete the bucket; these tokens cannot.
 *
 * InfluxDB OSS v2 API: `POST /api/v2/signin` (basic auth, answers a session cookie),
 * `GET /api/v2/orgs?org=`, `GET /api/v2/buckets?name=&orgID=`, `PATCH /api/v2/buckets/{id}`
 * (retentionRules), `POST /api/v2/authorizations` (permissions `read`/`write` on
 * `{type: buckets, id, orgID}`), `DELETE /api/v2/authorizations/{id}`.
 */

export interface InfluxAdmin {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly organization: string;
  readonly bucket: string;
}

export interface IssuedTokens {
  readonly write: { readonly id: string; readonly token: string };
  readonly read: { readonly id: string; readonly token: string };
}

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export class InfluxApiError extends Error {
  override readonly name = 'InfluxApiError';
  constructor(
    readonly status: number,
    what: string,
    detail: string,
  ) {
    super(`InfluxDB answered ${status} to ${what}: ${detail}`);
  }
}

/** A signed-in session of the admin user. */
export class InfluxAdminSession {
  private constructor(
    private readonly url: string,
    private readonly cookie: string,
    private readonly fetchFn: Fetch,
  ) {}

  static async signIn(admin: InfluxAdmin, fetchFn: Fetch = fetch): Promise<InfluxAdminSession> {
    const basic = Buffer.from(`${admin.username}:${admin.password}`).toString('base64');
    const res = await fetchFn(`${admin.url}/api/v2/signin`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
    });
    if (res.status !== 204) throw new InfluxApiError(res.status, 'sign-in', await detailOf(res));
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    if (!cookie) throw new InfluxApiError(res.status, 'sign-in', 'no session cookie in the answer');
    return new InfluxAdminSession(admin.url, cookie, fetchFn);
  }

  async call<T>(
    method: string,
    path: string,
    what: string,
    body?: unknown,
    ok = [200, 201, 204],
  ): Promise<T> {
    const res = await this.fetchFn(`${this.url}${path}`, {
      method,
      headers: { cookie: this.cookie, 'content-type': 'application/json', accept: 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!ok.includes(res.status)) throw new InfluxApiError(res.status, what, await detailOf(res));
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }
}

/** Looks up the organization and bucket, sets the retention and issues the two tokens. */
export async function issueTokens(
  admin: InfluxAdmin,
  o: { retentionSeconds: number; description: string },
  fetchFn: Fetch = fetch,
): Promise<IssuedTokens> {
  const session = await InfluxAdminSession.signIn(admin, fetchFn);
  const orgs = await session.call<{ orgs?: Array<{ id: string; name: string }> }>(
    'GET',
    `/api/v2/orgs?org=${encodeURIComponent(admin.organization)}`,
    `looking up organization ${admin.organization}`,
  );
  const orgID = orgs.orgs?.find((x) => x.name === admin.organization)?.id;
  if (!orgID)
    throw new InfluxApiError(404, 'looking up the organization', `no organization ${admin.organization}`);
  const buckets = await session.call<{ buckets?: Array<{ id: string; name: string }> }>(
    'GET',
    `/api/v2/buckets?name=${encodeURIComponent(admin.bucket)}&orgID=${orgID}`,
    `looking up bucket ${admin.bucket}`,
  );
  const bucketID = buckets.buckets?.find((b) => b.name === admin.bucket)?.id;
  if (!bucketID) throw new InfluxApiError(404, 'looking up the bucket', `no bucket ${admin.bucket}`);
  await session.call('PATCH', `/api/v2/buckets/${bucketID}`, `setting the retention of ${admin.bucket}`, {
    retentionRules: o.retentionSeconds > 0 ? [{ type: 'expire', everySeconds: o.retentionSeconds }] : [],
  });
  const issue = async (action: 'read' | 'write') => {
    const auth = await session.call<{ id: string; token: string }>(
      'POST',
      '/api/v2/authorizations',
      `creating the ${action} token`,
      {
        orgID,
        description: `${o.description} (${action} ${admin.bucket})`,
        permissions: [{ action, resource: { type: 'buckets', id: bucketID, orgID } }],
      },
    );
    if (!auth.id || !auth.token)
      throw new InfluxApiError(201, `creating the ${action} token`, 'no token in the answer');
    return { id: auth.id, token: auth.token };
  };
  return { write: await issue('write'), read: await issue('read') };
}

/** Deletes authorizations by id; one already gone is fine. */
export async function revokeTokens(
  admin: InfluxAdmin,
  ids: readonly string[],
  fetchFn: Fetch = fetch,
): Promise<void> {
  if (ids.length === 0) return;
  const session = await InfluxAdminSession.signIn(admin, fetchFn);
  for (const id of ids) {
    await session.call(
      'DELETE',
      `/api/v2/authorizations/${encodeURIComponent(id)}`,
      `deleting token ${id}`,
      undefined,
      [204, 404],
    );
  }
}

async function detailOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const json = JSON.parse(text) as { message?: string };
    return json.message ?? text;
  } catch {
    return text || res.statusText;
  }
}
