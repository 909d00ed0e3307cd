import {
  type _Record,
  type MeasureValue,
  RejectedRecordsException,
  ThrottlingException,
  type TimestreamWriteClient,
  TimestreamWriteServiceException,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import { DIMENSIONS, MEASURES, READING_MEASURE_NAME, SENSOR_KINDS, SEQUENCE_MEASURE } from '../../contracts';
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
 * TelemetryStore adapter for Amazon Timestream for LiveAnalytics (WriteRecords).
 *
 * - One multi-measure record per reading (MeasureValueType MULTI, measure name
 *   READING_MEASURE_NAME), dimensions building/zone/thing, time = the reading's timestamp in
 *   milliseconds. No Version is sent: writing an identical record again is accepted
 *   ("Upsert semantics" in the WriteRecords API reference), which makes redelivery safe.
 * - At most 100 records per WriteRecords call (the API's limit).
 * - RejectedRecordsException: the other records of the call were ingested, so only the
 *   rejected indices are reported and nothing is resent.
 * - ThrottlingException and transient service failures are retried with exponential backoff
 *   and full jitter, a bounded number of times. Give the client `maxAttempts: 1` so this
 *   policy is the only one retrying.
 */
export const TIMESTREAM_MAX_RECORDS_PER_WRITE = 100;

export interface TimestreamStoreOptions {
  readonly client: TimestreamWriteClient;
  readonly database: string;
  readonly table: string;
  readonly backoff?: BackoffOptions;
  /** Waits between retries; tests pass a stub. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Told about every throttled or failed attempt that will be retried. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: Error }) => void;
}

/** Errors of the Timestream write API that a later retry may get past. */
const TRANSIENT_ERRORS = new Set(['InternalServerException', 'ServiceUnavailableException']);
/** Errors that say the table or its permissions are not as deployed; the data is fine. */
const UNAVAILABLE_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'ServiceQuotaExceededException',
  'InvalidEndpointException',
]);
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export class TimestreamStore implements TelemetryStore {
  readonly maxRecordsPerWrite = TIMESTREAM_MAX_RECORDS_PER_WRITE;
  readonly #options: TimestreamStoreOptions;
  readonly #backoff: BackoffOptions;

  constructor(options: TimestreamStoreOptions) {
    if (!options.database) throw new Error('TimestreamStore needs a database name; got an empty string');
    if (!options.table) throw new Error('TimestreamStore needs a table name; got an empty string');
    this.#options = options;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  async write(records: readonly ReadingRecord[]): Promise<WriteResult> {
    const rejected: RejectedRecord[] = [];
    for (let offset = 0; offset < records.length; offset += this.maxRecordsPerWrite) {
      const chunk = records.slice(offset, offset + this.maxRecordsPerWrite);
      for (const r of await this.#writeChunk(chunk))
        rejected.push({ index: offset + r.index, reason: r.reason });
    }
    return { rejected };
  }

  async #writeChunk(chunk: readonly ReadingRecord[]): Promise<RejectedRecord[]> {
    const command = new WriteRecordsCommand({
      DatabaseName: this.#options.database,
      TableName: this.#options.table,
      Records: chunk.map(toTimestreamRecord),
    });
    const wait = this.#options.sleep ?? sleep;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#options.client.send(command);
        return [];
      } catch (error) {
        if (error instanceof RejectedRecordsException) return rejectedOf(error, chunk.length);
        const retryable = error instanceof ThrottlingException || isTransient(error);
        if (!retryable || attempt >= this.#backoff.maxAttempts) throw typedStoreError(error, attempt);
        const delayMs = backoffDelayMs(attempt - 1, this.#backoff, this.#options.random);
        this.#options.onRetry?.({ attempt, delayMs, error: error as Error });
        await wait(delayMs);
      }
    }
  }
}

/** The multi-measure Timestream record for one reading. */
export function toTimestreamRecord(record: ReadingRecord): _Record {
  const { reading } = record;
  const measures: MeasureValue[] = [];
  for (const kind of SENSOR_KINDS) {
    const value = reading[kind];
    if (value === undefined) continue;
    measures.push({ Name: kind, Value: String(value), Type: MEASURES[kind].integer ? 'BIGINT' : 'DOUBLE' });
  }
  measures.push({ Name: SEQUENCE_MEASURE, Value: String(reading.seq), Type: 'BIGINT' });
  return {
    Dimensions: DIMENSIONS.map((name) => ({
      Name: name,
      Value: record[name],
      DimensionValueType: 'VARCHAR',
    })),
    MeasureName: READING_MEASURE_NAME,
    MeasureValueType: 'MULTI',
    MeasureValues: measures,
    Time: String(reading.ts),
    TimeUnit: 'MILLISECONDS',
  };
}

function rejectedOf(error: RejectedRecordsException, chunkLength: number): RejectedRecord[] {
  const out: RejectedRecord[] = [];
  for (const r of error.RejectedRecords ?? []) {
    const index = r.RecordIndex;
    // An entry without a usable index cannot be tied to a record; the model always sets it.
    if (index === undefined || index < 0 || index >= chunkLength) continue;
    const reason = r.Reason ?? 'rejected by Timestream without a reason';
    out.push({
      index,
      reason: r.ExistingVersion === undefined ? reason : `${reason} (existing version ${r.ExistingVersion})`,
    });
  }
  return out;
}

function isTransient(error: unknown): boolean {
  if (error instanceof TimestreamWriteServiceException) {
    return TRANSIENT_ERRORS.has(error.name) || error.$fault === 'server';
  }
  return isNetworkError(error);
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return error.name === 'TimeoutError' || (code !== undefined && NETWORK_ERROR_CODES.has(code));
}

function typedStoreError(error: unknown, attempts: number): Error {
  if (error instanceof ThrottlingException) return new StoreThrottledError(attempts, { cause: error });
  if (error instanceof TimestreamWriteServiceException) {
    const detail = `${error.name}: ${error.message}`;
    if (isTransient(error) || UNAVAILABLE_ERRORS.has(error.name)) {
      return new StoreUnavailableError(detail, { cause: error });
    }
    return new StoreRequestError(detail, { cause: error });
  }
  if (isNetworkError(error)) {
    return new StoreUnavailableError(`${(error as Error).name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // Not a service answer: a bug or something unforeseen. Rethrown as it is.
  return error as Error;
}
