import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InfluxDB } from '@influxdata/influxdb-client';
import {
  type LocalClientConfig,
  READING_MEASURE_NAME,
  SENSOR_KINDS,
  SEQUENCE_MEASURE,
} from '../../contracts';
import type { BinnedValue, LatestReading, ReadingsReader, SequenceRange } from './reader';

/**
 * ReadingsReader over Amazon Timestream for InfluxDB: InfluxQL through the InfluxDB 1.x
 * compatibility API (`/query`, database = bucket, `epoch=ms`) with the read-only API token the
 * stack stores in Secrets Manager (stack output InfluxDbReadTokenSecretArn), through the
 * official client's HTTP transport (@influxdata/influxdb-client).
 *
 * On AWS the instance is reachable only inside its VPC (a bastion, VPN or a function there);
 * the local cloud's instance listens on the loopback interface with the local CA's certificate.
 */

export interface InfluxDbReaderOptions {
  readonly url: string;
  readonly bucket: string;
  readonly tokenSecretArn: string;
  /** Client config for Secrets Manager (the local cloud's endpoint, or {} for AWS). */
  readonly client: LocalClientConfig | Record<string, unknown>;
  /** CA certificates to trust for the instance (the local CA). */
  readonly caPem?: string;
}

interface QueryAnswer {
  results?: Array<{
    error?: string;
    series?: Array<{ tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
  }>;
}

const ident = (name: string) => `"${name.replace(/"/g, '\\"')}"`;
const text = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function latestReadingsInfluxQL(from: number, to: number, limit: number): string {
  return (
    `SELECT * FROM ${ident(READING_MEASURE_NAME)} WHERE time >= ${Math.floor(from)}ms AND time <= ${Math.ceil(to)}ms ` +
    `ORDER BY time DESC LIMIT ${Math.max(1, Math.trunc(limit))}`
  );
}

export function zoneSeriesInfluxQL(measure: string, from: number, to: number, binMinutes: number): string {
  return (
    `SELECT mean(${ident(measure)}) AS v FROM ${ident(READING_MEASURE_NAME)} ` +
    `WHERE time >= ${Math.floor(from)}ms AND time <= ${Math.ceil(to)}ms ` +
    `GROUP BY time(${Math.trunc(binMinutes)}m), ${ident('zone')} fill(none)`
  );
}

export function storedReadingsInfluxQL(ranges: readonly SequenceRange[]): string {
  const where = ranges
    .map(
      (r) =>
        `(${ident('thing')} = ${text(r.thing)} AND ${ident(SEQUENCE_MEASURE)} >= ${Math.trunc(r.fromSeq)})`,
    )
    .join(' OR ');
  return `SELECT count(${ident(SEQUENCE_MEASURE)}) AS n FROM ${ident(READING_MEASURE_NAME)} WHERE ${where}`;
}

export function influxDbReader(o: InfluxDbReaderOptions): ReadingsReader {
  const secrets = new SecretsManagerClient(o.client);
  let influx: Promise<InfluxDB> | undefined;
  const connect = () => {
    influx ??= (async () => {
      const out = await secrets.send(new GetSecretValueCommand({ SecretId: o.tokenSecretArn }));
      const token = (JSON.parse(out.SecretString ?? '{}') as { token?: string }).token;
      if (!token) {
        throw new Error(
          `secret ${o.tokenSecretArn} holds no InfluxDB token yet; the stack's token step writes it on deploy`,
        );
      }
      return new InfluxDB({ url: o.url, token, ...(o.caPem ? { transportOptions: { ca: o.caPem } } : {}) });
    })().catch((err) => {
      influx = undefined;
      throw err;
    });
    return influx;
  };
  const run = async (q: string) => {
    const client = await connect();
    const params = new URLSearchParams({ db: o.bucket, q, epoch: 'ms' });
    const answer = (await client.transport.request(`/query?${params}`, null, {
      method: 'GET',
    })) as QueryAnswer;
    const result = answer.results?.[0];
    if (result?.error) throw new Error(`InfluxDB refused the query: ${result.error}`);
    return result?.series ?? [];
  };
  return {
    engine: 'influxdb',
    async latest(from, to, limit = 500) {
      const out: LatestReading[] = [];
      for (const s of await run(latestReadingsInfluxQL(from, to, limit))) {
        const col = new Map(s.columns.map((c, i) => [c, i]));
        for (const row of s.values) {
          const get = (c: string) => {
            const i = col.get(c);
            return i === undefined ? undefined : row[i];
          };
          const values: LatestReading['values'] = {};
          for (const k of SENSOR_KINDS) {
            const v = get(k);
            if (typeof v === 'number') values[k] = v;
          }
          out.push({
            zone: String(get('zone') ?? ''),
            thing: String(get('thing') ?? ''),
            at: Number(get('time')),
            values,
          });
        }
      }
      return out;
    },
    async series(measure, from, to, binMinutes) {
      const out: BinnedValue[] = [];
      for (const s of await run(zoneSeriesInfluxQL(measure, from, to, binMinutes))) {
        for (const [t, v] of s.values) {
          if (typeof v === 'number') out.push({ zone: s.tags?.zone ?? '', t: Number(t), v });
        }
      }
      return out.sort((a, b) => a.t - b.t);
    },
    async countStored(ranges) {
      if (ranges.length === 0) return 0;
      const series = await run(storedReadingsInfluxQL(ranges));
      return Number(series[0]?.values[0]?.[1] ?? 0);
    },
    close: () => secrets.destroy(),
  };
}
