import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../../local/timestream';
import { call, NOW, openService, readingRecord, tempDir } from './helpers';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

describe('durability across close and reopen', () => {
  it('keeps databases, tables, schemas and readings after a restart', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const first = await openService(tmp.dir);
    await first.createDatabase('db');
    await first.createTable('db', 'readings', {
      memoryStoreRetentionHours: 12,
      enableMagneticStoreWrites: true,
    });
    await call(first.writeRoute, 'WriteRecords', {
      DatabaseName: 'db',
      TableName: 'readings',
      Records: [readingRecord({ zone: 'lobby', time: NOW - 60_000, temperature: 21.5, seq: 7 })],
    });
    await first.close();
    expect(existsSync(join(tmp.dir, DATABASE_FILE))).toBe(true);

    const second = await openService(tmp.dir);
    try {
      const described = await call(second.writeRoute, 'DescribeTable', {
        DatabaseName: 'db',
        TableName: 'readings',
      });
      expect(described.body.Table.RetentionProperties.MemoryStoreRetentionPeriodInHours).toBe(12);
      expect(described.body.Table.MagneticStoreWriteProperties.EnableMagneticStoreWrites).toBe(true);
      const r = await second.query(`SELECT zone, temperature, seq FROM "db"."readings"`);
      expect(r.Rows.map((row) => row.Data.map((d) => d.ScalarValue))).toEqual([['lobby', '21.5', '7']]);
    } finally {
      await second.close();
    }
  });

  it('keeps version state after a restart, so a stale rewrite is still rejected', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const first = await openService(tmp.dir);
    await first.createDatabase('db');
    await first.createTable('db', 'readings');
    const rec = (value: number, version: number) =>
      readingRecord({ zone: 'lobby', time: NOW - 60_000, temperature: value }, version);
    await call(first.writeRoute, 'WriteRecords', {
      DatabaseName: 'db',
      TableName: 'readings',
      Records: [rec(20, 5)],
    });
    await first.close();

    const second = await openService(tmp.dir);
    try {
      const r = await call(second.writeRoute, 'WriteRecords', {
        DatabaseName: 'db',
        TableName: 'readings',
        Records: [rec(21, 4)],
      });
      expect(r.error?.fields['RejectedRecords']).toEqual([expect.objectContaining({ ExistingVersion: 5 })]);
    } finally {
      await second.close();
    }
  });

  it('keeps the data when the deployer creates an existing table again with new retention', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const service = await openService(tmp.dir);
    try {
      await service.createDatabase('db');
      await service.createTable('db', 'readings', { memoryStoreRetentionHours: 6 });
      await call(service.writeRoute, 'WriteRecords', {
        DatabaseName: 'db',
        TableName: 'readings',
        Records: [readingRecord({ zone: 'lobby', time: NOW - 60_000, temperature: 21 })],
      });
      await service.createDatabase('db');
      const info = await service.createTable('db', 'readings', { memoryStoreRetentionHours: 24 });
      expect(info.retention.memoryStoreRetentionHours).toBe(24);
      const r = await service.query(`SELECT count(*) FROM "db"."readings"`);
      expect(r.Rows[0]?.Data[0]?.ScalarValue).toBe('1');
    } finally {
      await service.close();
    }
  });
});

describe('deployer path', () => {
  it('accepts retention values as CloudFormation strings', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const service = await openService(tmp.dir);
    try {
      await service.createDatabase('db');
      const info = await service.createTable('db', 't', {
        memoryStoreRetentionHours: '24',
        magneticStoreRetentionDays: '7',
        enableMagneticStoreWrites: 'true',
      });
      expect(info.retention).toEqual({
        memoryStoreRetentionHours: 24,
        magneticStoreRetentionDays: 7,
        enableMagneticStoreWrites: true,
      });
    } finally {
      await service.close();
    }
  });

  it('refuses retention that is not a number', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const service = await openService(tmp.dir);
    try {
      await service.createDatabase('db');
      await expect(
        service.createTable('db', 't', { memoryStoreRetentionHours: 'a day' }),
      ).rejects.toMatchObject({
        code: 'ValidationException',
      });
    } finally {
      await service.close();
    }
  });
});

describe('crash recovery', () => {
  it('finds records written by a process that exited without closing the store', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const script = join(import.meta.dirname, 'fixtures', 'write-and-exit.ts');
    await promisify(execFile)(process.execPath, ['--import', 'tsx', script, tmp.dir, String(NOW)], {
      timeout: 20_000,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    const service = await openService(tmp.dir);
    try {
      const r = await service.query(`SELECT zone, seq FROM "db"."readings"`);
      expect(r.Rows.map((row) => row.Data.map((d) => d.ScalarValue))).toEqual([['lobby', '9']]);
    } finally {
      await service.close();
    }
  });
});

describe('a state dir another process holds', () => {
  it('is refused with the holder and the way out, not a raw lock error', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const { DuckDBInstance } = require('@duckdb/node-api');
         DuckDBInstance.create(process.argv[1]).then(() => { console.log('held'); setInterval(() => {}, 1000); });`,
        join(tmp.dir, DATABASE_FILE),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((ready, failed) => {
        holder.stdout.on('data', () => ready());
        holder.once('exit', (code) => failed(new Error(`the holder exited with ${code}`)));
      });
      await expect(openService(tmp.dir)).rejects.toThrow(
        new RegExp(`Another process \\(PID ${holder.pid}\\) has the local cloud's state open .*--state-dir`),
      );
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
