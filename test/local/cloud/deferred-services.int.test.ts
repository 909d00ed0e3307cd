/**
 * The services the local cloud starts on first use (local/cloud.ts): on an empty state dir
 * Timestream, Lambda and Timestream for InfluxDB are not started, yet their APIs answer the
 * first request (which starts them); a state dir with a Timestream database opens it at start;
 * a second cloud on a state dir in use is refused, and the dir is free again once the first stops.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../../local/cloud';
import { type LocalLogger, recordingLogger } from '../../../local/common/log';
import { DATABASE_FILE } from '../../../local/timestream';

let root: string;
const clouds: LocalCloud[] = [];
const stateDir = () => join(root, 'state');
const start = async (logger: LocalLogger = recordingLogger()) => {
  const cloud = await startLocalCloud({ stateDir: stateDir(), mqttPort: 0, apiPort: 0, logger });
  clouds.push(cloud);
  return cloud;
};
const call = (cloud: LocalCloud, target: string, body: object = {}) =>
  fetch(cloud.endpoints.apiEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
    body: JSON.stringify(body),
  });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'zonectl-deferred-'));
});
afterEach(async () => {
  for (const cloud of clouds.splice(0)) await cloud.close();
  rmSync(root, { recursive: true, force: true });
});

describe('services started on first use', () => {
  it('opens Timestream with the first request on an empty state dir, and at start once it has a database', async () => {
    const opened = (logger: { lines: string[] }) =>
      logger.lines.filter((l) => /\[timestream\] store open/.test(l));
    const firstLog = recordingLogger();
    const cloud = await start(firstLog);
    const database = join(stateDir(), 'timestream', DATABASE_FILE);
    expect(existsSync(database)).toBe(false);
    expect(opened(firstLog)).toEqual([]);
    const created = await call(cloud, 'Timestream_20181101.CreateDatabase', { DatabaseName: 'first' });
    expect(created.status).toBe(200);
    expect(existsSync(database)).toBe(true);
    expect(opened(firstLog)).toHaveLength(1);
    const listed = await call(cloud, 'Timestream_20181101.ListDatabases');
    expect(((await listed.json()) as { Databases: Array<{ DatabaseName: string }> }).Databases).toEqual([
      expect.objectContaining({ DatabaseName: 'first' }),
    ]);
    await cloud.close();
    clouds.length = 0;
    const againLog = recordingLogger();
    await start(againLog);
    expect(opened(againLog)).toEqual([expect.stringContaining('1 database(s)')]);
  });

  it('answers Lambda and InfluxDB requests before either has started, with nothing deployed', async () => {
    const cloud = await start();
    expect(cloud.lambda.listFunctions()).toEqual([]);
    expect(cloud.influxdb.listInstances()).toEqual([]);
    const functions = await fetch(`${cloud.endpoints.apiEndpoint}/2015-03-31/functions/`);
    expect(functions.status).toBe(200);
    expect(((await functions.json()) as { Functions: unknown[] }).Functions).toEqual([]);
    const instances = await call(cloud, 'AmazonTimestreamInfluxDB.ListDbInstances');
    expect(instances.status).toBe(200);
    expect(((await instances.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('keeps a second cloud off a state dir in use, and lets it start once the first stopped', async () => {
    const first = await start();
    await expect(start()).rejects.toThrow(/Another process \(PID \d+\) has the local cloud's state open/);
    await first.close();
    clouds.length = 0;
    await start();
  });
});
