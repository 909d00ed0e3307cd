import type { Reading } from '../../contracts';

/**
 * The storage port for readings. Timestream for LiveAnalytics is the first adapter
 * (timestream-store.ts); the port says nothing Timestream-specific so a second adapter can
 * take its place: records are plain readings with their address, a write reports per-record
 * rejections by index, and failures the caller may retry come as typed errors.
 */

/** One reading with the address of the thing that took it. */
export interface ReadingRecord {
  readonly building: string;
  readonly zone: string;
  readonly thing: string;
  readonly reading: Reading;
}

/** A record the store refused for good; retrying it unchanged will not help. */
export interface RejectedRecord {
  /** Index into the `records` array given to `write`. */
  readonly index: number;
  readonly reason: string;
}

export interface WriteResult {
  readonly rejected: RejectedRecord[];
}

export interface TelemetryStore {
  /**
   * How many records one `write` sends in one request. Callers that want to keep a failure
   * confined to few records chunk by this; `write` accepts more and chunks itself.
   */
  readonly maxRecordsPerWrite: number;
  /**
   * Stores the records. Every record not listed in `rejected` is stored. Writing a record that
   * is already stored with the same values is accepted again, so a retry of the same records
   * is safe.
   *
   * @throws StoreThrottledError when the store kept throttling after bounded retries.
   * @throws StoreUnavailableError when the store could not be reached or failed internally.
   * @throws StoreRequestError when the store refused the request as a whole (a bug or a
   *   misconfiguration: retrying the same request will not help).
   * When `write` throws after more than one request, earlier requests may have been stored.
   */
  write(records: readonly ReadingRecord[]): Promise<WriteResult>;
}

/** Base class of the errors a TelemetryStore throws. */
export abstract class StoreError extends Error {
  /** Whether retrying the same records later may succeed. */
  abstract readonly retryable: boolean;
}

export class StoreThrottledError extends StoreError {
  override readonly name = 'StoreThrottledError';
  readonly retryable = true;
  constructor(
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(`the telemetry store kept throttling writes after ${attempts} attempts`, options);
  }
}

export class StoreUnavailableError extends StoreError {
  override readonly name = 'StoreUnavailableError';
  readonly retryable = true;
  constructor(detail: string, options?: ErrorOptions) {
    super(`the telemetry store is unavailable: ${detail}`, options);
  }
}

export class StoreRequestError extends StoreError {
  override readonly name = 'StoreRequestError';
  readonly retryable = false;
  constructor(detail: string, options?: ErrorOptions) {
    super(`the telemetry store refused the write request: ${detail}`, options);
  }
}
