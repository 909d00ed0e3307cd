/**
 * Pure validation and normalisation of a Timestream WriteRecords request (Amazon Timestream
 * API Reference, "WriteRecords", "Record", "Dimension", "MeasureValue"; limits from the
 * Timestream Developer Guide, "Quotas" > "Service limits" and "Naming constraints"). Everything here is
 * request-shape checking: a problem fails the whole request with ValidationException, the
 * way Timestream refuses an unparseable time ("Invalid time for record."). Per-record
 * rejections that depend on the table (time window, versions, schema conflicts, table limits)
 * live in writer.ts.
 */
import { validation } from '../errors';
import type { MeasureValueType, ScalarMeasureType } from '../types';

export type TimeUnit = 'MILLISECONDS' | 'SECONDS' | 'MICROSECONDS' | 'NANOSECONDS';

export const SCALAR_TYPES: readonly ScalarMeasureType[] = [
  'DOUBLE',
  'BIGINT',
  'VARCHAR',
  'BOOLEAN',
  'TIMESTAMP',
];
const MEASURE_VALUE_TYPES: readonly MeasureValueType[] = [...SCALAR_TYPES, 'MULTI'];
const TIME_UNITS: Readonly<Record<TimeUnit, bigint>> = {
  SECONDS: 1_000_000_000n,
  MILLISECONDS: 1_000_000n,
  MICROSECONDS: 1_000n,
  NANOSECONDS: 1n,
};

/** Model limits (Smithy model of timestream-write) and service quotas (Timestream quotas page). */
export const LIMITS = {
  minRecords: 1,
  maxRecords: 100,
  maxDimensionsPerRecord: 128,
  maxDimensionNameBytes: 60,
  maxDimensionValueChars: 2048,
  maxMeasureNameBytes: 256,
  maxMeasureValueChars: 2048,
  maxMeasuresPerMultiRecord: 256,
  maxMultiMeasureValueBytes: 2048,
  maxSeriesKeyBytes: 2048,
  maxNameBytes: 256,
} as const;

/** A parsed measure value: DOUBLE -> number, BIGINT/TIMESTAMP -> bigint (TIMESTAMP in ns), VARCHAR -> string, BOOLEAN -> boolean. */
export type ScalarValue = number | bigint | string | boolean;

export interface MeasureAttribute {
  readonly name: string;
  readonly type: ScalarMeasureType;
  readonly value: ScalarValue;
}

export interface NormalizedRecord {
  /** Index of the record in the request's Records array. */
  readonly index: number;
  /** Dimensions sorted by name. */
  readonly dimensions: ReadonlyArray<readonly [string, string]>;
  /** Canonical text of the dimension set: the series identity. */
  readonly seriesKey: string;
  readonly measureName: string;
  readonly timeNs: bigint;
  /** The record's Version; 1 when the request gave none (model doc, "Version"). */
  readonly version: bigint;
  readonly versionGiven: boolean;
  readonly kind: 'single' | 'multi';
  /** For single-measure records one attribute named after the measure; for MULTI the measure values. */
  readonly measures: readonly MeasureAttribute[];
  /** Canonical text of the value(s), for the "same value" test of upserts. */
  readonly valueKey: string;
}

export interface WriteRecordsInput {
  readonly databaseName: string;
  readonly tableName: string;
  readonly records: NormalizedRecord[];
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Names Timestream keeps for its own columns (IoT Timestream action doc, "dimensions"). */
export function reservedNameReason(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower === 'time' || lower === 'measure_name') return `'${name}' is a reserved column name`;
  if (lower.startsWith('measure_value')) return `names starting with 'measure_value' are reserved`;
  if (lower.startsWith('ts_')) return `names starting with 'ts_' are reserved`;
  if (name.includes(':')) return `names cannot contain ':'`;
  return undefined;
}

function optionalString(obj: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw validation(`${where}.${key} must be a string.`);
  return v;
}

interface RawDimension {
  readonly name: string;
  readonly value: string;
}

function parseDimensions(raw: unknown, where: string): RawDimension[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validation(`${where}.Dimensions must be a list.`);
  if (raw.length > LIMITS.maxDimensionsPerRecord) {
    throw validation(
      `${where}.Dimensions has ${raw.length} dimensions; at most ${LIMITS.maxDimensionsPerRecord}.`,
    );
  }
  const seen = new Set<string>();
  return raw.map((d, i) => {
    const at = `${where}.Dimensions[${i}]`;
    if (!isObject(d)) throw validation(`${at} must be an object.`);
    const name = optionalString(d, 'Name', at);
    const value = optionalString(d, 'Value', at);
    const valueType = optionalString(d, 'DimensionValueType', at);
    if (!name) throw validation(`${at}.Name is required.`);
    if (bytes(name) > LIMITS.maxDimensionNameBytes) {
      throw validation(`Dimension name '${name}' exceeds ${LIMITS.maxDimensionNameBytes} bytes.`);
    }
    const reserved = reservedNameReason(name);
    if (reserved) throw validation(`Invalid dimension name '${name}': ${reserved}.`);
    if (value === undefined || value.length === 0) {
      throw validation(`Dimension '${name}' needs a non-empty value.`);
    }
    if (value.length > LIMITS.maxDimensionValueChars) {
      throw validation(`Dimension '${name}' value exceeds ${LIMITS.maxDimensionValueChars} characters.`);
    }
    if (valueType !== undefined && valueType !== 'VARCHAR') {
      throw validation(`${at}.DimensionValueType '${valueType}' is not supported; only VARCHAR.`);
    }
    if (seen.has(name)) throw validation(`Duplicate dimension name '${name}' in ${where}.`);
    seen.add(name);
    return { name, value };
  });
}

const DOUBLE_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INT_TEXT = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Parses a value sent as a string (model doc: "MeasureValue ... string"); undefined if it does not parse. */
export function parseScalar(type: ScalarMeasureType, text: string, unit: TimeUnit): ScalarValue | undefined {
  switch (type) {
    case 'DOUBLE': {
      if (!DOUBLE_TEXT.test(text)) return undefined;
      const n = Number(text);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'BIGINT': {
      if (!INT_TEXT.test(text)) return undefined;
      const n = BigInt(text);
      return n < INT64_MIN || n > INT64_MAX ? undefined : n;
    }
    case 'BOOLEAN': {
      const lower = text.toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : undefined;
    }
    case 'VARCHAR':
      return text;
    case 'TIMESTAMP': {
      if (!/^\d+$/.test(text)) return undefined;
      const ns = BigInt(text) * TIME_UNITS[unit];
      return ns > INT64_MAX ? undefined : ns;
    }
  }
}

function canonical(v: ScalarValue): string {
  return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v);
}

/** Merges CommonAttributes into a record (model doc "CommonAttributes"): record fields win, dimensions are joined. */
function mergeRecord(common: Record<string, unknown>, record: Record<string, unknown>, index: number) {
  const at = `Records[${index}]`;
  const commonDims = parseDimensions(common['Dimensions'], 'CommonAttributes');
  const ownDims = parseDimensions(record['Dimensions'], at);
  const commonNames = new Set(commonDims.map((d) => d.name));
  for (const d of ownDims) {
    if (commonNames.has(d.name)) {
      throw validation(
        `Record at index ${index} has dimension '${d.name}' which is also in CommonAttributes; a dimension name may appear only once.`,
      );
    }
  }
  const pick = (key: string) => (record[key] !== undefined && record[key] !== null ? record : common);
  const fromCommon = (key: string) => pick(key) === common;
  return {
    dimensions: [...commonDims, ...ownDims],
    measureName: optionalString(
      pick('MeasureName'),
      'MeasureName',
      fromCommon('MeasureName') ? 'CommonAttributes' : at,
    ),
    measureValue: optionalString(pick('MeasureValue'), 'MeasureValue', at),
    measureValueType: optionalString(pick('MeasureValueType'), 'MeasureValueType', at),
    measureValues: pick('MeasureValues')['MeasureValues'],
    time: pick('Time')['Time'],
    timeUnit: optionalString(pick('TimeUnit'), 'TimeUnit', at),
    version: pick('Version')['Version'],
  };
}

function parseTime(raw: unknown, unit: TimeUnit, index: number): bigint {
  const text = typeof raw === 'number' && Number.isInteger(raw) ? String(raw) : raw;
  if (typeof text !== 'string' || !/^\d{1,256}$/.test(text)) {
    throw validation(`Invalid time for record. Record at index ${index} needs Time as a string of digits.`);
  }
  const ns = BigInt(text) * TIME_UNITS[unit];
  if (ns > INT64_MAX)
    throw validation(`Invalid time for record. Record at index ${index} is beyond year 2262.`);
  return ns;
}

function parseVersion(raw: unknown, index: number): { version: bigint; given: boolean } {
  if (raw === undefined || raw === null) return { version: 1n, given: false };
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) {
    throw validation(
      `Record at index ${index} has an invalid Version; it must be a whole number of at least 1.`,
    );
  }
  if (raw < 1)
    throw validation(`Record at index ${index} has Version ${raw}; the version must be at least 1.`);
  return { version: BigInt(raw), given: true };
}

function normalizeRecord(common: Record<string, unknown>, raw: unknown, index: number): NormalizedRecord {
  if (!isObject(raw)) throw validation(`Records[${index}] must be an object.`);
  const m = mergeRecord(common, raw, index);
  if (!m.measureName) throw validation(`Record at index ${index} has no MeasureName.`);
  if (bytes(m.measureName) > LIMITS.maxMeasureNameBytes) {
    throw validation(`Measure name '${m.measureName}' exceeds ${LIMITS.maxMeasureNameBytes} bytes.`);
  }
  const reserved = reservedNameReason(m.measureName);
  if (reserved) throw validation(`Invalid measure name '${m.measureName}': ${reserved}.`);
  const type = (m.measureValueType ?? 'DOUBLE') as MeasureValueType;
  if (!MEASURE_VALUE_TYPES.includes(type)) {
    throw validation(
      `Record at index ${index} has MeasureValueType '${m.measureValueType}'; expected one of ${MEASURE_VALUE_TYPES.join(', ')}.`,
    );
  }
  const unitText = m.timeUnit ?? 'MILLISECONDS';
  if (!(unitText in TIME_UNITS)) {
    throw validation(
      `Record at index ${index} has TimeUnit '${unitText}'; expected one of ${Object.keys(TIME_UNITS).join(', ')}.`,
    );
  }
  const unit = unitText as TimeUnit;
  const timeNs = parseTime(m.time, unit, index);
  const { version, given } = parseVersion(m.version, index);
  const dimensions = [...m.dimensions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const seriesKey = JSON.stringify(dimensions.map((d) => [d.name, d.value]));
  if (bytes(seriesKey) > LIMITS.maxSeriesKeyBytes + 64) {
    throw validation(
      `Record at index ${index} has dimensions larger than ${LIMITS.maxSeriesKeyBytes} bytes.`,
    );
  }
  const dimNames = new Set(dimensions.map((d) => d.name));

  let measures: MeasureAttribute[];
  if (type === 'MULTI') {
    if (m.measureValue !== undefined) {
      throw validation(`Record at index ${index} is MULTI and must use MeasureValues, not MeasureValue.`);
    }
    if (!Array.isArray(m.measureValues) || m.measureValues.length === 0) {
      throw validation(`Record at index ${index} is MULTI and needs at least one entry in MeasureValues.`);
    }
    if (m.measureValues.length > LIMITS.maxMeasuresPerMultiRecord) {
      throw validation(
        `Record at index ${index} has ${m.measureValues.length} MeasureValues; at most ${LIMITS.maxMeasuresPerMultiRecord}.`,
      );
    }
    const seen = new Set<string>();
    measures = m.measureValues.map((mv, i) => {
      const at = `Records[${index}].MeasureValues[${i}]`;
      if (!isObject(mv)) throw validation(`${at} must be an object.`);
      const name = optionalString(mv, 'Name', at);
      const text = optionalString(mv, 'Value', at);
      const mtype = optionalString(mv, 'Type', at) as ScalarMeasureType | undefined;
      if (!name) throw validation(`${at}.Name is required.`);
      if (bytes(name) > LIMITS.maxMeasureNameBytes) {
        throw validation(`Measure name '${name}' exceeds ${LIMITS.maxMeasureNameBytes} bytes.`);
      }
      const why = reservedNameReason(name);
      if (why) throw validation(`Invalid measure name '${name}': ${why}.`);
      if (seen.has(name)) throw validation(`Duplicate measure name '${name}' in record at index ${index}.`);
      if (dimNames.has(name)) {
        throw validation(`Record at index ${index} uses '${name}' both as a dimension and as a measure.`);
      }
      seen.add(name);
      if (!mtype || !SCALAR_TYPES.includes(mtype)) {
        throw validation(`${at}.Type '${mtype ?? ''}' is not one of ${SCALAR_TYPES.join(', ')}.`);
      }
      return { name, type: mtype, value: parseValue(mtype, text, unit, index, name) };
    });
    const total = measures.reduce((sum, a) => sum + bytes(a.name) + valueBytes(a), 0);
    if (total > LIMITS.maxMultiMeasureValueBytes) {
      throw validation(
        `Record at index ${index} has measure values larger than ${LIMITS.maxMultiMeasureValueBytes} bytes.`,
      );
    }
  } else {
    if (m.measureValues !== undefined && m.measureValues !== null) {
      throw validation(`Record at index ${index} has MeasureValues, which need MeasureValueType MULTI.`);
    }
    measures = [
      { name: m.measureName, type, value: parseValue(type, m.measureValue, unit, index, m.measureName) },
    ];
  }
  const valueKey = measures
    .map((a) => `${a.name}:${a.type}=${canonical(a.value)}`)
    .sort()
    .join('\u0000');
  return {
    index,
    dimensions: dimensions.map((d) => [d.name, d.value] as const),
    seriesKey,
    measureName: m.measureName,
    timeNs,
    version,
    versionGiven: given,
    kind: type === 'MULTI' ? 'multi' : 'single',
    measures,
    valueKey,
  };
}

function valueBytes(a: MeasureAttribute): number {
  if (a.type === 'VARCHAR') return bytes(String(a.value));
  return a.type === 'BOOLEAN' ? 1 : 8;
}

function parseValue(
  type: ScalarMeasureType,
  text: string | undefined,
  unit: TimeUnit,
  index: number,
  name: string,
): ScalarValue {
  if (text === undefined || text.length === 0) {
    throw validation(`Record at index ${index} has no value for measure '${name}'.`);
  }
  if (text.length > LIMITS.maxMeasureValueChars) {
    throw validation(
      `Measure '${name}' value in record at index ${index} exceeds ${LIMITS.maxMeasureValueChars} characters.`,
    );
  }
  const value = parseScalar(type, text, unit);
  if (value === undefined) {
    throw validation(`Record at index ${index}: measure '${name}' value '${text}' is not a valid ${type}.`);
  }
  return value;
}

export function checkName(kind: 'database' | 'table', name: unknown): string {
  const label = kind === 'database' ? 'DatabaseName' : 'TableName';
  if (typeof name !== 'string' || name.length === 0) throw validation(`${label} is required.`);
  if (bytes(name) > LIMITS.maxNameBytes) throw validation(`${label} exceeds ${LIMITS.maxNameBytes} bytes.`);
  if (!/^[a-zA-Z0-9_.-]+$/.test(name)) {
    throw validation(`${label} '${name}' may contain only letters, digits, '_', '.' and '-'.`);
  }
  return name;
}

/** Validates and normalises a WriteRecords request body (API Reference, "WriteRecords" and "Record"). */
export function parseWriteRecords(body: unknown): WriteRecordsInput {
  if (!isObject(body)) throw validation('The request body must be a JSON object.');
  const databaseName = checkName('database', body['DatabaseName']);
  const tableName = checkName('table', body['TableName']);
  const records = body['Records'];
  if (!Array.isArray(records)) throw validation('Records is required.');
  if (records.length < LIMITS.minRecords || records.length > LIMITS.maxRecords) {
    throw validation(
      `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between ${LIMITS.minRecords} and ${LIMITS.maxRecords}; got ${records.length}.`,
    );
  }
  const commonRaw = body['CommonAttributes'];
  if (commonRaw !== undefined && commonRaw !== null && !isObject(commonRaw)) {
    throw validation('CommonAttributes must be an object.');
  }
  const common = (commonRaw ?? {}) as Record<string, unknown>;
  return {
    databaseName,
    tableName,
    records: records.map((r, i) => normalizeRecord(common, r, i)),
  };
}
