/**
 * The local Timestream for InfluxDB instance against real clients: the official InfluxDB client
 * (@influxdata/influxdb-client) writing line protocol, curl querying InfluxQL, the token step's
 * own code signing in and issuing tokens, and the ingest function's InfluxDbStore adapter
 * mapping InfluxDB's partial-write answers to the readings it refused.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../../contracts';
import { type InfluxAdmin, issueTokens } from '../../../lambda/influxdb-tokens/tokens';
import { InfluxDbStore } from '../../../lambda/shared/influxdb-store';
import { type CaService, createCaService } from '../../../local/ca';
import { DEFAULT_IDENTITY, silentLogger } from '../../../local/common';
import { createInfluxDbService, type InfluxDbService, type InstanceInfo } from '../../../local/influxdb';

let dir: string;
let ca: CaService;
let caPem: string;
let service: InfluxDbService;
let instance: InstanceInfo;
let admin: InfluxAdmin;
let tokens: Awaited<ReturnType<typeof issueTokens>>;
const NOW = Date.parse('2026-11-27T10:00:00Z');
const clock = NOW;

/** curl runs in a child process while this process serves the instance, so it is awaited, never run synchronously. */
const curl = async (...args: string[]) =>
  (
    await promisify(execFile)('curl', ['-sS', '--cacert', join(dir, 'ca', 'ca.pem'), ...args], {
      encoding: 'utf8',
    })
  ).stdout;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'influxdb-api-'));
  ca = await createCaService({ dir: join(dir, 'ca'), logger: silentLogger });
  caPem = ca.caPem;
  const server = await ca.issueServerCertificate(['localhost', '127.0.0.1']);
  service = await createInfluxDbService({
    dir: join(dir, 'influxdb'),
    identity: DEFAULT_IDENTITY,
    logger: silentLogger,
    tls: { certPem: server.certPem, keyPem: server.keyPem },
    now: () => clock,
  });
  instance = await service.createInstance({
    name: 'zonectl-test-1a2b3c4d',
    username: 'zonectladmin',
    password: 'Passw0rdPassw0rd',
    organization: 'zonectl',
    bucket: 'readings',
    port: 0,
  });
  admin = {
    url: instance.url,
    username: 'zonectladmin',
    password: 'Passw0rdPassw0rd',
    organization: 'zonectl',
    bucket: 'readings',
  };
  tokens = await issueTokens(admin, { retentionSeconds: 7 * 86400, description: 'test' }, curlFetch);
});

afterAll(async () => {
  await service?.close();
  await ca?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The token step's fetch, through curl so the local CA is trusted without touching Node's store. */
async function curlFetch(url: string, init: RequestInit): Promise<Response> {
  const headers = Object.entries((init.headers ?? {}) as Record<string, string>).flatMap(([k, v]) => [
    '-H',
    `${k}: ${v}`,
  ]);
  const out = await curl(
    '-i',
    '-X',
    init.method ?? 'GET',
    ...headers,
    ...(init.body ? ['--data-binary', String(init.body)] : []),
    url,
  );
  const [head, ...rest] = out.split('\r\n\r\n');
  const lines = head!.split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const h = new Headers();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) h.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  return new Response(status === 204 ? null : rest.join('\r\n\r\n'), { status, headers: h });
}

const query = async (token: string, q: string) =>
  JSON.parse(
    await curl(
      '-G',
      `${instance.url}/query`,
      '-H',
      `Authorization: Token ${token}`,
      '--data-urlencode',
      'db=readings',
      '--data-urlencode',
      `q=${q}`,
      '--data-urlencode',
      'epoch=ms',
    ),
  ) as {
    results: Array<{
      error?: string;
      series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
    }>;
  };

describe('local InfluxDB instance', () => {
  it('answers /health and /ping like InfluxDB 2', async () => {
    expect(JSON.parse(await curl(`${instance.url}/health`))).toMatchObject({
      name: 'influxdb',
      status: 'pass',
    });
    expect(await curl('-o', '/dev/null', '-w', '%{http_code}', `${instance.url}/ping`)).toBe('204');
  });

  it('takes writes from the official client with ms precision, readable through InfluxQL', async () => {
    const client = new InfluxDB({
      url: instance.url,
      token: tokens.write.token,
      transportOptions: { ca: caPem },
    });
    const write = client.getWriteApi('zonectl', 'readings', 'ms', { flushInterval: 0, maxRetries: 0 });
    write.writePoint(
      new Point('reading')
        .tag('zone', 'lobby')
        .tag('thing', 'a')
        .floatField('temperature', 21.5)
        .intField('seq', 1)
        .timestamp(NOW - 60_000),
    );
    write.writePoint(
      new Point('reading')
        .tag('zone', 'lobby')
        .tag('thing', 'a')
        .floatField('temperature', 22.5)
        .intField('seq', 2)
        .timestamp(NOW - 30_000),
    );
    await write.close();
    const answer = await query(
      tokens.read.token,
      'SELECT mean("temperature") AS v, count("seq") AS n FROM "reading" WHERE "thing" = \'a\'',
    );
    expect(answer.results[0]!.series![0]!.values[0]!.slice(1)).toEqual([22, 2]);
  });

  it('refuses a malformed line with 400 naming the line, and writes nothing of the request', async () => {
    const out = await curl(
      '-w',
      '\n%{http_code}',
      '-X',
      'POST',
      `${instance.url}/api/v2/write?org=zonectl&bucket=readings&precision=ms`,
      '-H',
      `Authorization: Token ${tokens.write.token}`,
      '--data-binary',
      `reading,thing=b seq=1i ${NOW}\nreading,thing=b seq= ${NOW}`,
    );
    const [body, status] = out.split('\n');
    expect(status).toBe('400');
    expect(JSON.parse(body!)).toMatchObject({ code: 'invalid', line: 2 });
    expect(
      (await query(tokens.read.token, 'SELECT count("seq") FROM "reading" WHERE "thing" = \'b\'')).results[0]!
        .series,
    ).toBeUndefined();
  });

  it('writes the points it can and answers 422 for points beyond the bucket retention', async () => {
    const old = NOW - 30 * 86_400_000;
    const out = await curl(
      '-w',
      '\n%{http_code}',
      '-X',
      'POST',
      `${instance.url}/api/v2/write?org=zonectl&bucket=readings&precision=ms`,
      '-H',
      `Authorization: Token ${tokens.write.token}`,
      '--data-binary',
      `reading,thing=c seq=1i ${old}\nreading,thing=c seq=2i ${NOW}`,
    );
    const [body, status] = out.split('\n');
    expect(status).toBe('422');
    expect(JSON.parse(body!).message).toContain('points beyond retention policy dropped=1');
    expect(
      (await query(tokens.read.token, 'SELECT count("seq") FROM "reading" WHERE "thing" = \'c\'')).results[0]!
        .series![0]!.values[0]![1],
    ).toBe(1);
  });

  it('keeps the read token from writing and an unknown token from anything', async () => {
    const status = (token: string) =>
      curl(
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-X',
        'POST',
        `${instance.url}/api/v2/write?org=zonectl&bucket=readings`,
        '-H',
        `Authorization: Token ${token}`,
        '--data-binary',
        'reading seq=1i',
      );
    expect(await status(tokens.read.token)).toBe('403');
    expect(await status('not-a-token')).toBe('401');
  });

  it('answers Flux with a refusal that says to use InfluxQL', async () => {
    const body = JSON.parse(
      await curl(
        '-X',
        'POST',
        `${instance.url}/api/v2/query?org=zonectl`,
        '-H',
        `Authorization: Token ${tokens.read.token}`,
        '--data-binary',
        'from(bucket:"readings")',
      ),
    );
    expect(body.message).toMatch(/InfluxQL on \/query/);
  });

  it('keeps points and tokens across a restart of the service', async () => {
    await service.close();
    const server = await ca.issueServerCertificate(['localhost', '127.0.0.1']);
    service = await createInfluxDbService({
      dir: join(dir, 'influxdb'),
      identity: DEFAULT_IDENTITY,
      logger: silentLogger,
      tls: { certPem: server.certPem, keyPem: server.keyPem },
      now: () => clock,
    });
    instance = service.listInstances()[0]!;
    const answer = await query(tokens.read.token, 'SELECT count("seq") FROM "reading" WHERE "thing" = \'a\'');
    expect(answer.results[0]!.series![0]!.values[0]![1]).toBe(2);
  });
});

describe('the ingest adapter against it', () => {
  const reading = (seq: number, ts: number, extra: Partial<Reading> = {}): Reading => ({
    ts,
    seq,
    temperature: 20 + seq / 10,
    ...extra,
  });
  const record = (thing: string, r: Reading) => ({ building: 'hq', zone: 'lobby', thing, reading: r });

  it('stores every reading, and a retry of the same readings stores them once', async () => {
    const store = new InfluxDbStore({
      url: instance.url,
      organization: 'zonectl',
      bucket: 'readings',
      token: async () => tokens.write.token,
      transportOptions: { ca: caPem },
    });
    const records = Array.from({ length: 50 }, (_, i) => record('d', reading(i, NOW - 1000 + i)));
    expect(await store.write(records)).toEqual({ rejected: [] });
    expect(await store.write(records)).toEqual({ rejected: [] });
    expect(
      (await query(tokens.read.token, 'SELECT count("seq") FROM "reading" WHERE "thing" = \'d\'')).results[0]!
        .series![0]!.values[0]![1],
    ).toBe(50);
  });

  it('keeps two readings of one thing in the same millisecond apart by their sequence numbers', async () => {
    const store = new InfluxDbStore({
      url: instance.url,
      organization: 'zonectl',
      bucket: 'readings',
      token: async () => tokens.write.token,
      transportOptions: { ca: caPem },
    });
    await store.write([record('e', reading(1, NOW)), record('e', reading(2, NOW))]);
    expect(
      (await query(tokens.read.token, 'SELECT count("seq") FROM "reading" WHERE "thing" = \'e\'')).results[0]!
        .series![0]!.values[0]![1],
    ).toBe(2);
  });

  it('reports exactly the readings InfluxDB refused (beyond retention), by index, and stores the rest', async () => {
    const store = new InfluxDbStore({
      url: instance.url,
      organization: 'zonectl',
      bucket: 'readings',
      token: async () => tokens.write.token,
      transportOptions: { ca: caPem },
    });
    const old = NOW - 30 * 86_400_000;
    const records = [0, 1, 2, 3, 4, 5, 6].map((i) =>
      record('f', reading(i, i === 2 || i === 5 ? old : NOW - i)),
    );
    const result = await store.write(records);
    expect(result.rejected.map((r) => r.index)).toEqual([2, 5]);
    expect(result.rejected[0]!.reason).toMatch(/HTTP 422.*beyond retention/);
    expect(
      (await query(tokens.read.token, 'SELECT count("seq") FROM "reading" WHERE "thing" = \'f\'')).results[0]!
        .series![0]!.values[0]![1],
    ).toBe(5);
  });

  it('fails as unavailable, for redelivery, when its token is refused even after reading it again', async () => {
    let reads = 0;
    const store = new InfluxDbStore({
      url: instance.url,
      organization: 'zonectl',
      bucket: 'readings',
      token: async () => {
        reads++;
        return 'revoked';
      },
      transportOptions: { ca: caPem },
    });
    await expect(store.write([record('g', reading(1, NOW))])).rejects.toMatchObject({
      name: 'StoreUnavailableError',
      retryable: true,
    });
    expect(reads).toBe(2);
  });
});
