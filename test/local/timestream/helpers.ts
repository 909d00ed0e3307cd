import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIMENSIONS, READING_MEASURE_NAME } from '../../../contracts';
import { DEFAULT_IDENTITY } from '../../../local/common/account';
import { AwsServiceError } from '../../../local/common/aws-error';
import { silentLogger } from '../../../local/common/log';
import type { AwsRequest, AwsResponse, ServiceRoute } from '../../../local/gateway/types';
import { createTimestreamService, type TimestreamService } from '../../../local/timestream';

export const HOUR = 3_600_000;
/** A fixed clock: 2026-11-23T20:00:00Z. */
export const NOW = Date.UTC(2026, 10, 23, 20, 0, 0);

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'zonectl-ts-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function openService(dir: string, now: () => number = () => NOW): Promise<TimestreamService> {
  return createTimestreamService({ dir, identity: DEFAULT_IDENTITY, logger: silentLogger, now });
}

export function jsonRequest(op: string, body: unknown, host = '127.0.0.1:4566'): AwsRequest {
  return {
    method: 'POST',
    path: '/',
    rawPath: '/',
    query: new URLSearchParams(),
    headers: {
      host,
      'x-amz-target': `Timestream_20181101.${op}`,
      'content-type': 'application/x-amz-json-1.0',
    },
    body: Buffer.from(JSON.stringify(body)),
    signingService: 'timestream',
    target: `Timestream_20181101.${op}`,
  };
}

/** Calls a route; an AwsServiceError comes back as { error }. */
export async function call(
  route: ServiceRoute,
  op: string,
  body: unknown,
): Promise<{
  response?: AwsResponse; // biome-ignore lint/suspicious/noExplicitAny: tests read response shapes freely
  body?: any;
  error?: AwsServiceError;
}> {
  try {
    const response = await route.handle(jsonRequest(op, body));
    return { response, body: response.body };
  } catch (err) {
    if (err instanceof AwsServiceError) return { error: err };
    throw err;
  }
}

export interface ReadingRecord {
  zone: string;
  thing?: string;
  time: number;
  temperature?: number;
  humidity?: number;
  co2?: number;
  light?: number;
  occupancy?: number;
  seq?: number;
}

/** A multi-measure record shaped the way the ingest pipeline writes readings. */
export function readingRecord(r: ReadingRecord, version?: number) {
  const values: Record<(typeof DIMENSIONS)[number], string> = {
    building: 'hq',
    zone: r.zone,
    thing: r.thing ?? `${r.zone}-sensor`,
  };
  const measures = [
    ...(['temperature', 'humidity', 'co2', 'light'] as const)
      .filter((k) => r[k] !== undefined)
      .map((k) => ({ Name: k, Value: String(r[k]), Type: 'DOUBLE' as const })),
    ...(['occupancy', 'seq'] as const)
      .filter((k) => r[k] !== undefined)
      .map((k) => ({ Name: k, Value: String(r[k]), Type: 'BIGINT' as const })),
  ];
  return {
    Dimensions: DIMENSIONS.map((name) => ({ Name: name, Value: values[name] })),
    MeasureName: READING_MEASURE_NAME,
    MeasureValueType: 'MULTI' as const,
    MeasureValues: measures,
    Time: String(r.time),
    TimeUnit: 'MILLISECONDS' as const,
    ...(version !== undefined ? { Version: version } : {}),
  };
}
