/**
 * Write throughput of the local Timestream: n multi-measure readings, shaped as the ingest
 * pipeline writes them, sent through the WriteRecords route handler in batches of 100 (the API
 * maximum). Measures validation, upsert checks and DuckDB appends, not HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIMENSIONS, READING_MEASURE_NAME, SEQUENCE_MEASURE } from '../contracts';
import { DEFAULT_IDENTITY, silentLogger } from '../local/common';
import type { AwsRequest } from '../local/gateway';
import { createTimestreamService } from '../local/timestream';

export interface WriteBenchResult {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
}

const BATCH = 100;

export async function benchWrite(n = 20_000): Promise<WriteBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'zonectl-ts-bench-'));
  const now = Date.now();
  const service = await createTimestreamService({
    dir,
    identity: DEFAULT_IDENTITY,
    logger: silentLogger,
    now: () => now,
  });
  try {
    await service.createDatabase('bench');
    await service.createTable('bench', 'readings', { memoryStoreRetentionHours: 24 });
    const bodies: Buffer[] = [];
    for (let start = 0; start < n; start += BATCH) {
      const records = [];
      for (let i = start; i < Math.min(n, start + BATCH); i++) {
        const zone = `zone-${i % 20}`;
        const dims: Record<(typeof DIMENSIONS)[number], string> = {
          building: 'hq',
          zone,
          thing: `${zone}-sensor`,
        };
        records.push({
          Dimensions: DIMENSIONS.map((d) => ({ Name: d, Value: dims[d] })),
          MeasureName: READING_MEASURE_NAME,
          MeasureValueType: 'MULTI',
          MeasureValues: [
            { Name: 'temperature', Value: String(20 + (i % 50) / 10), Type: 'DOUBLE' },
            { Name: 'humidity', Value: '41.5', Type: 'DOUBLE' },
            { Name: 'co2', Value: '620', Type: 'DOUBLE' },
            { Name: 'light', Value: '300', Type: 'DOUBLE' },
            { Name: 'occupancy', Value: String(i % 7), Type: 'BIGINT' },
            { Name: SEQUENCE_MEASURE, Value: String(i), Type: 'BIGINT' },
          ],
          // Spread over the last hour, newest last, distinct per thing.
          Time: String(now - 3_600_000 + Math.floor((i * 3_600_000) / n)),
        });
      }
      bodies.push(
        Buffer.from(JSON.stringify({ DatabaseName: 'bench', TableName: 'readings', Records: records })),
      );
    }
    const request = (body: Buffer): AwsRequest => ({
      method: 'POST',
      path: '/',
      rawPath: '/',
      query: new URLSearchParams(),
      headers: { 'x-amz-target': 'Timestream_20181101.WriteRecords' },
      body,
      target: 'Timestream_20181101.WriteRecords',
      signingService: 'timestream',
    });
    const started = process.hrtime.bigint();
    for (const body of bodies) await service.writeRoute.handle(request(body));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { records: n, seconds, recordsPerSecond: Math.round(n / seconds) };
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
