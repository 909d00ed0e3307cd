/**
 * Timestream write metering of the ingest path, as the Amazon Timestream Developer Guide
 * counts it ("Metering and pricing", "Writes":
 * https://docs.aws.amazon.com/timestream/latest/developerguide/metering-and-pricing.writes.html):
 * a record's write size is 8 bytes of timestamp, plus the UTF-8 bytes of each dimension name
 * and value and of the measure name, plus each measure value (8 bytes for BIGINT and DOUBLE, 1
 * for BOOLEAN, UTF-8 bytes for VARCHAR). A multi-measure record adds, for each of its measure
 * values, the value's name and its size. Writes are counted in 1 KiB units over the aggregated
 * size of one WriteRecords request (the guide's example batches 12 records into one write); the
 * exact rounding is not documented, so this takes ceil(request bytes / 1024).
 */
import type { _Record, MeasureValue } from '@aws-sdk/client-timestream-write';
import type { ReadingRecord } from '../lambda/shared/telemetry-store';
import { TIMESTREAM_MAX_RECORDS_PER_WRITE, toTimestreamRecord } from '../lambda/shared/timestream-store';

export const WRITE_UNIT_BYTES = 1024;
const TIMESTAMP_BYTES = 8;

const utf8 = (s: string | undefined) => (s ? Buffer.byteLength(s, 'utf8') : 0);

function valueBytes(type: string | undefined, value: string | undefined): number {
  switch (type) {
    case 'BIGINT':
    case 'DOUBLE':
    case 'TIMESTAMP':
      return 8;
    case 'BOOLEAN':
      return 1;
    default:
      return utf8(value);
  }
}

/** Metered write size of one record, in bytes. */
export function recordWriteBytes(record: _Record): number {
  let bytes = TIMESTAMP_BYTES;
  for (const d of record.Dimensions ?? []) bytes += utf8(d.Name) + utf8(d.Value);
  bytes += utf8(record.MeasureName);
  if (record.MeasureValueType === 'MULTI') {
    for (const m of record.MeasureValues ?? ([] as MeasureValue[]))
      bytes += utf8(m.Name) + valueBytes(m.Type, m.Value);
  } else {
    bytes += valueBytes(record.MeasureValueType, record.MeasureValue);
  }
  return bytes;
}

export interface WriteCost {
  /** WriteRecords calls. */
  readonly requests: number;
  /** 1 KiB write units billed. */
  readonly writeUnits: number;
  readonly bytes: number;
}

/** Cost of writing the records in calls of at most `perCall` records, in order. */
export function writeCost(records: readonly ReadingRecord[], perCall: number): WriteCost {
  if (perCall < 1 || perCall > TIMESTREAM_MAX_RECORDS_PER_WRITE) {
    throw new RangeError(`perCall must be 1-${TIMESTREAM_MAX_RECORDS_PER_WRITE}, got ${perCall}`);
  }
  let requests = 0;
  let writeUnits = 0;
  let bytes = 0;
  for (let start = 0; start < records.length; start += perCall) {
    const chunk = records.slice(start, start + perCall);
    const chunkBytes = chunk.reduce((sum, r) => sum + recordWriteBytes(toTimestreamRecord(r)), 0);
    requests++;
    bytes += chunkBytes;
    writeUnits += Math.max(1, Math.ceil(chunkBytes / WRITE_UNIT_BYTES));
  }
  return { requests, writeUnits, bytes };
}
