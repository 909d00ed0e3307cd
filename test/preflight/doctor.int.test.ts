/**
 * `zonectl doctor`'s checks against the local cloud, which answers as an account that may use
 * Timestream for LiveAnalytics (an existing customer) or as one that may not (a new account
 * since 2025-06-20), the way AWS refuses it: AccessDeniedException from Timestream. Also the
 * command itself, end to end, with its exit code.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../contracts';
import { type LocalCloud, startLocalCloud } from '../../local/cloud';
import { silentLogger } from '../../local/common';
import { type CheckResult, closeClients, localClients, runPreflight } from '../../preflight/checks';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
let open: LocalCloud;
let closed: LocalCloud;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'doctor-'));
  open = await startLocalCloud({
    stateDir: join(dir, 'open'),
    mqttPort: 0,
    apiPort: 0,
    logger: silentLogger,
  });
  closed = await startLocalCloud({
    stateDir: join(dir, 'closed'),
    mqttPort: 0,
    apiPort: 0,
    logger: silentLogger,
    liveAnalytics: 'closed',
  });
});

afterAll(async () => {
  await open?.close();
  await closed?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function doctor(
  cloud: LocalCloud,
  engine: 'timestream' | 'influxdb',
): Promise<Record<string, CheckResult>> {
  const clients = localClients(localClientConfig(cloud.endpoints));
  try {
    const results = await runPreflight({ engines: [engine], clients, local: true });
    return Object.fromEntries(results.map((r) => [r.check, r]));
  } finally {
    closeClients(clients);
  }
}

describe('zonectl doctor against the local cloud', () => {
  it('passes an existing LiveAnalytics customer: credentials, engine, IoT data endpoint', async () => {
    const r = await doctor(open, 'timestream');
    expect(r.region).toMatchObject({ status: 'ok', detail: open.endpoints.region });
    expect(r.credentials).toMatchObject({ status: 'ok' });
    expect(r.credentials!.detail).toContain(`account ${open.identity.accountId}`);
    expect(r['engine timestream']).toMatchObject({ status: 'ok' });
    expect(r['IoT data endpoint']).toMatchObject({ status: 'ok' });
    expect(r['CDK bootstrap']).toMatchObject({ status: 'skipped' });
  });

  it('tells a new account it cannot use LiveAnalytics, and to switch to the InfluxDB engine', async () => {
    const r = await doctor(closed, 'timestream');
    expect(r['engine timestream']).toMatchObject({ status: 'problem' });
    expect(r['engine timestream']!.detail).toContain('cannot use Amazon Timestream for LiveAnalytics');
    expect(r['engine timestream']!.fix).toContain('"engine": "influxdb"');
  });

  it('passes the same new account on the InfluxDB engine', async () => {
    const r = await doctor(closed, 'influxdb');
    expect(r['engine influxdb']).toMatchObject({ status: 'ok' });
    expect(Object.values(r).filter((c) => c.status === 'problem')).toEqual([]);
  });

  it('runs as a command: prints each check and exits 1 on a problem', async () => {
    const run = promisify(execFile);
    const args = [
      'tsx',
      'bin/zonectl.ts',
      'doctor',
      '--local',
      '--state-dir',
      closed.stateDir,
      '--config',
      'examples/hq-influxdb.json',
    ];
    const ok = await run('npx', args, { cwd: REPO_ROOT });
    expect(ok.stdout).toMatch(/^ok +engine influxdb/m);
    expect(ok.stdout).toContain('Ready to deploy.');
    const failed = await run('npx', [...args.slice(0, -1), 'building.json'], { cwd: REPO_ROOT }).catch(
      (err: { code: number; stdout: string }) => err,
    );
    expect('code' in failed && failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^PROBLEM +engine timestream/m);
    expect(failed.stdout).toContain('fix: set "storage": {"engine": "influxdb"}');
  }, 60_000);
});
