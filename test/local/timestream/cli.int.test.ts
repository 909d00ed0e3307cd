import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../local/common/log';
import { createGatewayService, type GatewayService } from '../../../local/gateway';
import type { TimestreamService } from '../../../local/timestream';
import { call, openService, readingRecord, tempDir } from './helpers';

/** Debian's awscli 2.9 (botocore 1.29); the test is skipped where it is not installed. */
const AWS_CLI = '/usr/bin/aws';
const run = promisify(execFile);

const tmp = tempDir();
let service: TimestreamService;
let gateway: GatewayService;

describe.skipIf(!existsSync(AWS_CLI))('Timestream query through the AWS CLI', () => {
  beforeAll(async () => {
    service = await openService(tmp.dir, Date.now);
    await service.createDatabase('zonectl');
    await service.createTable('zonectl', 'readings');
    const now = Date.now();
    const records = Array.from({ length: 5 }, (_, i) =>
      readingRecord({ zone: 'lobby', time: now - (i + 1) * 60_000, temperature: 20 + i, seq: i }),
    );
    await call(service.writeRoute, 'WriteRecords', {
      DatabaseName: 'zonectl',
      TableName: 'readings',
      Records: records,
    });
    gateway = await createGatewayService({
      port: 0,
      routes: [service.writeRoute, service.queryRoute],
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await service?.close();
    tmp.remove();
  });

  it('follows NextToken pages to the full result', async () => {
    const { stdout } = await run(
      AWS_CLI,
      [
        'timestream-query',
        'query',
        '--endpoint-url',
        gateway.endpoint,
        '--page-size',
        '2',
        '--output',
        'json',
        '--query-string',
        'SELECT seq, temperature FROM "zonectl"."readings" ORDER BY seq',
      ],
      {
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: tmp.dir,
          AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
          AWS_SECRET_ACCESS_KEY: 'local-secret',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_PAGER: '',
        },
        timeout: 20_000,
      },
    );
    const out = JSON.parse(stdout) as { Rows: Array<{ Data: Array<{ ScalarValue: string }> }> };
    expect(out.Rows.map((r) => r.Data.map((d) => d.ScalarValue))).toEqual([
      ['0', '20.0'],
      ['1', '21.0'],
      ['2', '22.0'],
      ['3', '23.0'],
      ['4', '24.0'],
    ]);
  });
});
