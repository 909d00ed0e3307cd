import type { AwsRequest, AwsResponse, ServiceRoute } from '../local/gateway/types';
import { DashboardInputError } from './errors';
import { staticFile } from './static-files';

/**
 * The dashboard's HTTP side on the local cloud's gateway: `/` and `/dashboard` redirect to
 * `/dashboard/`; `GET api/state`, `GET api/series?measure=` and `POST api/override` answer JSON;
 * everything else below `/dashboard/` is a static file. A bad request is a 400 with its reason;
 * a pipeline API that does not answer is a 502 saying so.
 */

export interface DashboardApi {
  state(): Promise<unknown>;
  series(measure: string): Promise<unknown>;
  override(body: unknown): Promise<unknown>;
}

export function dashboardRoute(api: DashboardApi): ServiceRoute {
  return {
    name: 'dashboard',
    protocol: 'rest-json',
    matches: (req) => req.path === '/' || req.path === '/dashboard' || req.path.startsWith('/dashboard/'),
    async handle(req: AwsRequest): Promise<AwsResponse> {
      if (req.path === '/' || req.path === '/dashboard') {
        return { status: 302, headers: { location: '/dashboard/' } };
      }
      const sub = req.path.slice('/dashboard/'.length);
      try {
        if (sub === 'api/state' && req.method === 'GET') return json(200, await api.state());
        if (sub === 'api/series' && req.method === 'GET')
          return json(200, await api.series(req.query.get('measure') ?? ''));
        if (sub === 'api/override' && req.method === 'POST')
          return json(200, await api.override(parseBody(req.body)));
        if (sub.startsWith('api/'))
          return json(404, { message: `no dashboard API ${req.method} /dashboard/${sub}` });
        return await staticFile(sub === '' ? 'index.html' : sub);
      } catch (err) {
        if (err instanceof DashboardInputError) return json(400, { message: err.message });
        return json(502, { message: `the pipeline did not answer: ${(err as Error).message}` });
      }
    },
  };
}

function parseBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new DashboardInputError('the request body is not JSON');
  }
}

function json(status: number, body: unknown): AwsResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}
