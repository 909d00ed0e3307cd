/** The dashboard's HTTP route without a gateway: redirects, JSON answers, refusals and files. */
import { describe, expect, it } from 'vitest';
import { DashboardInputError } from '../../dashboard/errors';
import { type DashboardApi, dashboardRoute } from '../../dashboard/route';
import type { AwsRequest } from '../../local/gateway/types';

const request = (method: string, pathAndQuery: string, body = ''): AwsRequest => {
  const url = new URL(pathAndQuery, 'http://127.0.0.1');
  return {
    method,
    path: url.pathname,
    rawPath: url.pathname,
    query: url.searchParams,
    headers: {},
    body: Buffer.from(body),
  };
};

const api: DashboardApi = {
  state: async () => ({ zones: [] }),
  series: async (measure) => {
    if (measure !== 'temperature') throw new DashboardInputError(`unknown measure '${measure}'`);
    return { t: [], values: {} };
  },
  override: async (body) => {
    if ((body as { zone?: string }).zone === 'down') throw new Error('connect ECONNREFUSED');
    return { accepted: body };
  },
};
const route = dashboardRoute(api);
const json = (body: unknown) => JSON.parse(String(body));

describe('dashboard route', () => {
  it('serves / and /dashboard and nothing else of the API port', () => {
    expect(route.matches(request('GET', '/'))).toBe(true);
    expect(route.matches(request('GET', '/dashboard/api/state'))).toBe(true);
    expect(route.matches(request('GET', '/things/x/shadow'))).toBe(false);
  });

  it('redirects / to /dashboard/', async () => {
    expect(await route.handle(request('GET', '/'))).toMatchObject({
      status: 302,
      headers: { location: '/dashboard/' },
    });
  });

  it('answers the state and series APIs as JSON', async () => {
    const state = await route.handle(request('GET', '/dashboard/api/state'));
    expect(state.status).toBe(200);
    expect(json(state.body)).toEqual({ zones: [] });
    const series = await route.handle(request('GET', '/dashboard/api/series?measure=temperature'));
    expect(json(series.body)).toEqual({ t: [], values: {} });
  });

  it('passes the override body on', async () => {
    const res = await route.handle(request('POST', '/dashboard/api/override', '{"zone":"lobby"}'));
    expect(json(res.body)).toEqual({ accepted: { zone: 'lobby' } });
  });

  it('refuses bad input with 400 and its reason', async () => {
    const res = await route.handle(request('GET', '/dashboard/api/series?measure=pressure'));
    expect(res.status).toBe(400);
    expect(json(res.body)).toEqual({ message: "unknown measure 'pressure'" });
  });

  it('refuses an override body that is not JSON with 400', async () => {
    const res = await route.handle(request('POST', '/dashboard/api/override', '{zone'));
    expect(res.status).toBe(400);
    expect(json(res.body).message).toBe('the request body is not JSON');
  });

  it('answers 502 naming the failure when the pipeline does not answer', async () => {
    const res = await route.handle(request('POST', '/dashboard/api/override', '{"zone":"down"}'));
    expect(res.status).toBe(502);
    expect(json(res.body).message).toBe('the pipeline did not answer: connect ECONNREFUSED');
  });

  it('answers 404 for an API it does not have', async () => {
    const res = await route.handle(request('DELETE', '/dashboard/api/state'));
    expect(res.status).toBe(404);
    expect(json(res.body).message).toBe('no dashboard API DELETE /dashboard/api/state');
  });

  it('serves the page and the chart library, and nothing outside them', async () => {
    const page = await route.handle(request('GET', '/dashboard/'));
    expect(page).toMatchObject({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
    const uplot = await route.handle(request('GET', '/dashboard/vendor/uPlot.iife.min.js'));
    expect(uplot.status).toBe(200);
    // as a client could send it, not normalised by a URL parser
    const outside = await route.handle({
      ...request('GET', '/dashboard/'),
      path: '/dashboard/../../package.json',
    });
    expect(outside.status).toBe(404);
    expect(String(outside.body)).toBe('not found: /dashboard/../../package.json');
  });
});
