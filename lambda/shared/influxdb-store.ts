import { HttpError, InfluxDB, Point } from '@influxdata/influxdb-client';
import {
  DIMENSIONS,
  influxTimestampNs,
  MEASURES,
  READING_MEASURE_NAME,
  SENSOR_KINDS,
  SEQUENCE_MEASURE,
} from '../../contracts';
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF, sleep } from './backoff';
import {
  type ReadingRecord,
  type RejectedRecord,
  StoreRequestError,
  StoreThrottledError,
  StoreUnavailableError,
  type TelemetryStore,
  type WriteResult,
} from './telemetry-store';

/**
 * TelemetryStore adapter for Amazon Timestream for InfluxDB (an InfluxDB 2 DB instance), through
 * the InfluxDB v2 write API (`POST /api/v2/write`, InfluxDB OSS v2 API reference "Write data")
 * with the official client library's line protocol and HTTP transport
 * (@influxdata/influxdb-client).
 *
 * - One point per reading: measurement `reading`, tags building/zone/thing, a field per
 *   measure and `seq`, nanosecond time from contracts `influxTimestampNs` (a retry writes the
 *   same point again, which InfluxDB accepts and stores once).
 * - Batching: the service bills instance hours and storage, not writes (Amazon Timestream
 *   pricing), so batches are sized for throughput: up to 5,000 lines per request, gzipped above
 *   1 KB, as InfluxData's "Optimize writes" guidance recommends.
 * - Rejections (InfluxDB OSS v2, "Troubleshoot issues writing data"): 400 means a malformed
 *   line and nothing of the request was written; 422 means some or all points were rejected
 *   (outside the bucket's retention, a field type conflict) and the rest were written; 413 the
 *   body was too large. The answer names no point, so the adapter halves the batch and writes
 *   each half again until every refused point stands alone; points written twice are stored
 *   once. A point refused on its own is reported with the server's message.
 * - 429 and 503 are throttling (with Retry-After), 500 and network failures transient: retried
 *   with exponential backoff and full jitter, a bounded number of times. 401 (token refused)
 *   reads the token again once, then fails; 401, 403 and 404 (organization or bucket missing)
 *   are StoreUnavailableError, so the messages are redelivered and, if it lasts, dead-lettered.
 */
export const INFLUXDB_MAX_RECORDS_PER_WRITE = 5000;

export interface InfluxDbStoreOptions {
  /** `https://<endpoint>:<port>`. */
  readonly url: string;
  readonly organization: string;
  readonly bucket: string;
  /** The API token; called again after a 401, so a rotated token is picked up. */
  readonly token: (refresh: boolean) => Promise<string>;
  /** Request timeout in ms. @default 10000 */
  readonly timeoutMs?: number;
  /** Extra TLS options for the transport (the local cloud's CA in tests). */
  readonly transportOptions?: Record<string, unknown>;
  readonly backoff?: BackoffOptions;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: Error }) => void;
}

/** The line protocol of one reading. */
export function toLineProtocol(record: ReadingRecord): string {
  const { reading } = record;
  const point = new Point(READING_MEASURE_NAME);
  for (const name of DIMENSIONS) point.tag(name, record[name]);
  for (const kind of SENSOR_KINDS) {
    const value = reading[kind];
    if (value === undefined) continue;
    if (MEASURES[kind].integer) point.intField(kind, value);
    else point.floatField(kind, value);
  }
  point.intField(SEQUENCE_MEASURE, reading.seq);
  point.timestamp(influxTimestampNs(reading.ts, reading.seq).toString());
  const line = point.toLineProtocol();
  if (!line) throw new Error(`reading ${reading.seq} of ${record.thing} has no field to write`);
  return line;
}

type Outcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: number; readonly reason: string };

export class InfluxDbStore implements TelemetryStore {
  readonly maxRecordsPerWrite = INFLUXDB_MAX_RECORDS_PER_WRITE;
  readonly #options: InfluxDbStoreOptions;
  readonly #backoff: BackoffOptions;
  #client: InfluxDB | undefined;

  constructor(options: InfluxDbStoreOptions) {
    for (const key of ['url', 'organization', 'bucket'] as const) {
      if (!options[key]) throw new Error(`InfluxDbStore needs ${key}; got an empty string`);
    }
    this.#options = options;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  async write(records: readonly ReadingRecord[]): Promise<WriteResult> {
    const rejected: RejectedRecord[] = [];
    for (let offset = 0; offset < records.length; offset += this.maxRecordsPerWrite) {
      const chunk = records.slice(offset, offset + this.maxRecordsPerWrite);
      const lines = chunk.map(toLineProtocol);
      for (const r of await this.#writeSplitting(lines, 0)) {
        rejected.push({ index: offset + r.index, reason: r.reason });
      }
    }
    return { rejected };
  }

  /** Writes lines; a refused batch is halved until each refused line stands alone. */
  async #writeSplitting(lines: readonly string[], base: number): Promise<RejectedRecord[]> {
    const outcome = await this.#writeWithRetries(lines);
    if (outcome.ok) return [];
    if (lines.length === 1) return [{ index: base, reason: outcome.reason }];
    const half = Math.ceil(lines.length / 2);
    return [
      ...(await this.#writeSplitting(lines.slice(0, half), base)),
      ...(await this.#writeSplitting(lines.slice(half), base + half)),
    ];
  }

  async #writeWithRetries(lines: readonly string[]): Promise<Outcome> {
    const wait = this.#options.sleep ?? sleep;
    const body = lines.join('\n');
    let refresh = false;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#post(body, refresh);
        return { ok: true };
      } catch (error) {
        refresh = false;
        const status = error instanceof HttpError ? error.statusCode : undefined;
        if (status === 400 || status === 413 || status === 422) {
          return { ok: false, status, reason: describe(error as HttpError) };
        }
        if (status === 401 && !refreshed) {
          // The token may have been replaced since it was read: read it again, once.
          refresh = true;
          refreshed = true;
          attempt--;
          continue;
        }
        const retryable = isThrottle(error) || isTransient(error);
        if (!retryable || attempt >= this.#backoff.maxAttempts) throw typedStoreError(error, attempt);
        const after = error instanceof HttpError ? error.retryAfter() : 0;
        const delayMs = Math.max(after, backoffDelayMs(attempt - 1, this.#backoff, this.#options.random));
        this.#options.onRetry?.({ attempt, delayMs, error: error as Error });
        await wait(delayMs);
      }
    }
  }

  async #post(body: string, refresh: boolean): Promise<void> {
    const client = await this.#connect(refresh);
    const { organization, bucket } = this.#options;
    const query = new URLSearchParams({ org: organization, bucket, precision: 'ns' });
    await client.transport.request(`/api/v2/write?${query}`, body, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', accept: 'application/json' },
      gzipThreshold: 1000,
    });
  }

  async #connect(refresh: boolean): Promise<InfluxDB> {
    if (this.#client && !refresh) return this.#client;
    const token = await this.#options.token(refresh);
    this.#client = new InfluxDB({
      url: this.#options.url,
      token,
      timeout: this.#options.timeoutMs ?? 10_000,
      ...(this.#options.transportOptions ? { transportOptions: this.#options.transportOptions } : {}),
    });
    return this.#client;
  }
}

function describe(error: HttpError): string {
  const json = error.json as { message?: unknown } | undefined;
  const message = typeof json?.message === 'string' ? json.message : (error.body ?? error.message);
  return `InfluxDB refused the point (HTTP ${error.statusCode}): ${message}`;
}

function isThrottle(error: unknown): boolean {
  return error instanceof HttpError && (error.statusCode === 429 || error.statusCode === 503);
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function isTransient(error: unknown): boolean {
  if (error instanceof HttpError) return error.statusCode >= 500;
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (
    error.name === 'RequestTimedOutError' ||
    error.name === 'TimeoutError' ||
    (code !== undefined && NETWORK_ERROR_CODES.has(code))
  );
}

function typedStoreError(error: unknown, attempts: number): Error {
  if (isThrottle(error)) return new StoreThrottledError(attempts, { cause: error });
  if (error instanceof HttpError) {
    const detail = `HTTP ${error.statusCode}: ${describe(error)}`;
    if (error.statusCode >= 500 || [401, 403, 404].includes(error.statusCode)) {
      return new StoreUnavailableError(detail, { cause: error });
    }
    return new StoreRequestError(detail, { cause: error });
  }
  if (isTransient(error)) {
    const e = error as Error;
    return new StoreUnavailableError(`${e.name}: ${e.message}`, { cause: error });
  }
  // Not a server answer: a bug or something unforeseen. Rethrown as it is.
  return error as Error;
}
