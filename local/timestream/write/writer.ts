/**
 * Applies a validated WriteRecords batch to one table: the per-record rejections that Amazon
 * Timestream API Reference, "RejectedRecord" and "RejectedRecordsException" list (a time
 * outside the memory-store window or past the future-ingestion limit of the Developer Guide's
 * "Quotas", version conflicts, schema conflicts and table limits), the version-based upserts of
 * "WriteRecords" > "Upserts", and the write itself in one DuckDB transaction through the
 * appender. Records that are not rejected are stored even when
 * others in the batch are.
 */
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { type Catalog, type ColumnKind, SINGLE_VALUE_COLUMN, seriesOf, type TableMeta } from '../catalog';
import type { MeasureValueType, ScalarMeasureType } from '../types';
import type { NormalizedRecord, ScalarValue } from './records';

export interface RejectedRecord {
  readonly RecordIndex: number;
  readonly Reason: string;
  readonly ExistingVersion?: number;
}

export interface WriteOutcome {
  readonly memoryStore: number;
  readonly magneticStore: number;
  readonly rejected: RejectedRecord[];
}

/** Timestream quotas: dimensions per table and measure names per table. */
export const TABLE_LIMITS = { maxDimensionsPerTable: 128, maxMeasuresPerTable: 8192 } as const;

const NS_PER_MS = 1_000_000n;
const NS_PER_HOUR = 3_600_000_000_000n;
const NS_PER_DAY = 24n * NS_PER_HOUR;
/** "Time may be up to 15 minutes in the future" (Developer Guide, "Writes"). */
export const FUTURE_LIMIT_NS = 15n * 60_000_000_000n;

export const nsToIso = (ns: bigint) => new Date(Number(ns / NS_PER_MS)).toISOString();

interface RowState {
  version: bigint;
  valueKey: string;
  /** True if the row is in DuckDB now (not only in this batch). */
  stored: boolean;
}

interface PendingRow {
  record: NormalizedRecord;
  version: bigint;
}

/**
 * The time window a table accepts now: the memory-store retention back, 15 minutes ahead
 * (Timestream Developer Guide, "Quotas" > "Future ingestion period"; RejectedRecord).
 */
export function ingestionWindow(t: TableMeta, nowMs: number) {
  const now = BigInt(nowMs) * NS_PER_MS;
  let memoryStart = now - BigInt(t.retention.memoryStoreRetentionHours) * NS_PER_HOUR;
  if (t.memoryFloorNs !== null && t.memoryFloorNs > memoryStart) memoryStart = t.memoryFloorNs;
  const magneticStart = now - BigInt(t.retention.magneticStoreRetentionDays) * NS_PER_DAY;
  return { memoryStart, magneticStart, end: now + FUTURE_LIMIT_NS };
}

const identity = (r: NormalizedRecord) => `${r.timeNs}\u0000${r.measureName}\u0000${r.seriesKey}`;

export class TableWriter {
  constructor(
    private readonly conn: DuckDBConnection,
    private readonly catalog: Catalog,
  ) {}

  async write(t: TableMeta, records: readonly NormalizedRecord[], nowMs: number): Promise<WriteOutcome> {
    const rejected: RejectedRecord[] = [];
    const reject = (r: NormalizedRecord, Reason: string, ExistingVersion?: bigint) =>
      rejected.push({
        RecordIndex: r.index,
        Reason,
        ...(ExistingVersion !== undefined ? { ExistingVersion: Number(ExistingVersion) } : {}),
      });

    // 1. Time window.
    const w = ingestionWindow(t, nowMs);
    const store = new Map<NormalizedRecord, 'memory' | 'magnetic'>();
    const inTime: NormalizedRecord[] = [];
    for (const r of records) {
      if (r.timeNs < w.end && r.timeNs >= w.memoryStart) store.set(r, 'memory');
      else if (r.timeNs < w.end && t.retention.enableMagneticStoreWrites && r.timeNs >= w.magneticStart) {
        store.set(r, 'magnetic');
      } else {
        const start = t.retention.enableMagneticStoreWrites ? w.magneticStart : w.memoryStart;
        reject(
          r,
          `The record timestamp is outside the time range [${nsToIso(start)}, ${nsToIso(w.end)}) of the data ingestion window.`,
        );
        continue;
      }
      inTime.push(r);
    }

    // 2. Schema: column kinds and types must agree with the table's.
    const schema = new SchemaPlan(t);
    const fitting = inTime.filter((r) => {
      const why = schema.admit(r);
      if (why) reject(r, why);
      return !why;
    });

    // 3. Versions (WriteRecords "Upserts"), against stored rows and earlier records of this batch.
    const states = await this.existing(t, fitting);
    const pending = new Map<string, PendingRow>();
    const toDelete = new Set<string>();
    const ingested: NormalizedRecord[] = [];
    for (const r of fitting) {
      const id = identity(r);
      const prior = states.get(id);
      if (prior) {
        const sameValue = prior.valueKey === r.valueKey;
        if (r.version <= prior.version) {
          if (!sameValue) {
            reject(r, versionConflictReason(r.version, prior.version), prior.version);
            continue;
          }
          ingested.push(r); // the same value again: nothing changes
          continue;
        }
        if (prior.stored) toDelete.add(id);
      }
      states.set(id, { version: r.version, valueKey: r.valueKey, stored: false });
      pending.set(id, { record: r, version: r.version });
      ingested.push(r);
    }

    // 4. Store in one transaction.
    if (pending.size > 0 || schema.hasChanges()) {
      await this.apply(t, schema, [...toDelete].map(splitIdentity), [...pending.values()]);
    }
    let memoryStore = 0;
    let magneticStore = 0;
    for (const r of ingested) {
      if (store.get(r) === 'magnetic') magneticStore++;
      else memoryStore++;
    }
    rejected.sort((a, b) => a.RecordIndex - b.RecordIndex);
    return { memoryStore, magneticStore, rejected };
  }

  /** Stored rows with the identities of `records`, by identity. */
  private async existing(t: TableMeta, records: readonly NormalizedRecord[]): Promise<Map<string, RowState>> {
    const states = new Map<string, RowState>();
    const candidates = records.filter((r) => {
      const latest = t.latestNs.get(seriesOf(r.measureName, r.seriesKey));
      return latest !== undefined && r.timeNs <= latest;
    });
    if (candidates.length === 0) return states;
    const times = [...new Set(candidates.map((r) => r.timeNs))];
    let min = times[0]!;
    let max = min;
    for (const x of times) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const result = await this.conn.runAndReadAll(
      `SELECT time_ns, measure_name, series_key, version, value_key FROM ${t.physical}
       WHERE time_ns BETWEEN ${min} AND ${max} AND time_ns IN (${times.join(', ')})`,
    );
    for (const row of result.getRows()) {
      const id = `${row[0]}\u0000${row[1]}\u0000${row[2]}`;
      states.set(id, { version: row[3] as bigint, valueKey: String(row[4]), stored: true });
    }
    return states;
  }

  private async apply(
    t: TableMeta,
    schema: SchemaPlan,
    deletes: ReadonlyArray<readonly [bigint, string, string]>,
    rows: readonly PendingRow[],
  ): Promise<void> {
    const append = async () => {
      if (rows.length === 0) return;
      const order = [...t.physicalOrder, ...schema.newColumns.map((c) => schema.physicalOf(c.name))];
      const appender = await this.conn.createAppender(t.physical);
      try {
        for (const row of rows) appendRow(appender, order, schema, row);
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    };
    // Always in an explicit transaction: the appender's flush then only hands the rows to the
    // transaction, and the COMMIT, which writes and syncs DuckDB's WAL, runs on DuckDB's own
    // thread (`run` is asynchronous) instead of blocking the event loop as a flush outside a
    // transaction (a commit of its own) does.
    await this.conn.run('BEGIN TRANSACTION');
    let commitSchema: (() => void) | undefined;
    try {
      if (schema.hasChanges()) {
        commitSchema = await this.catalog.extendSchema(t, schema.newColumns, schema.newMeasures);
      }
      for (const [timeNs, measureName, seriesKey] of deletes) {
        await this.conn.run(
          `DELETE FROM ${t.physical} WHERE time_ns = ${timeNs} AND measure_name = $1 AND series_key = $2`,
          [measureName, seriesKey],
        );
      }
      await append();
      await this.conn.run('COMMIT');
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => {});
      throw err;
    }
    commitSchema?.();
    for (const { record: r } of rows) {
      const series = seriesOf(r.measureName, r.seriesKey);
      const latest = t.latestNs.get(series);
      if (latest === undefined || r.timeNs > latest) t.latestNs.set(series, r.timeNs);
    }
  }
}

function splitIdentity(id: string): readonly [bigint, string, string] {
  const [time, measure, series] = id.split('\u0000') as [string, string, string];
  return [BigInt(time), measure, series];
}

/**
 * The Reason AWS gives a version conflict. The API Reference (RejectedRecord) describes the
 * case but not its wording; these are the messages Timestream returns, as its users report them.
 */
export function versionConflictReason(version: bigint, existing: bigint): string {
  if (version < existing) {
    return `The record version ${version} is lower than the existing version ${existing}. A higher version is required to update the measure value.`;
  }
  return 'A record already exists with the same time, dimensions, measure name, and record version. A higher record version must be specified in order to update the measure value.';
}

/** New columns and measure types a batch introduces, checked against the table's schema. */
class SchemaPlan {
  readonly newColumns: Array<{ name: string; kind: ColumnKind; type: ScalarMeasureType }> = [];
  readonly newMeasures: Array<{ name: string; type: MeasureValueType }> = [];
  private readonly planned = new Map<string, { kind: ColumnKind; type: ScalarMeasureType }>();
  private readonly plannedMeasures = new Map<string, MeasureValueType>();
  private dimensionCount: number;
  private readonly base: number;

  constructor(private readonly t: TableMeta) {
    this.dimensionCount = [...t.columns.values()].filter((c) => c.kind === 'dimension').length;
    this.base = t.columns.size;
  }

  hasChanges(): boolean {
    return this.newColumns.length > 0 || this.newMeasures.length > 0;
  }

  physicalOf(name: string): string {
    const existing = this.t.columns.get(name);
    if (existing) return existing.physical;
    const i = this.newColumns.findIndex((c) => c.name === name);
    const c = this.newColumns[i]!;
    return `${c.kind === 'dimension' ? 'd' : 'm'}_${this.base + i}`;
  }

  private column(name: string) {
    return this.t.columns.get(name) ?? this.planned.get(name);
  }

  /** Returns the rejection reason, or undefined after recording what the record adds. */
  admit(r: NormalizedRecord): string | undefined {
    const cols: Array<{ name: string; kind: ColumnKind; type: ScalarMeasureType }> = [];
    let newDims = 0;
    for (const [name] of r.dimensions) {
      const c = this.column(name);
      if (c && c.kind !== 'dimension') {
        return `Column '${name}' is a measure in this table and cannot be used as a dimension.`;
      }
      if (!c) {
        cols.push({ name, kind: 'dimension', type: 'VARCHAR' });
        newDims++;
      }
    }
    if (this.dimensionCount + newDims > TABLE_LIMITS.maxDimensionsPerTable) {
      return `The table would exceed ${TABLE_LIMITS.maxDimensionsPerTable} dimensions.`;
    }
    const measureType: MeasureValueType = r.kind === 'multi' ? 'MULTI' : r.measures[0]!.type;
    const knownType = this.t.measureTypes.get(r.measureName) ?? this.plannedMeasures.get(r.measureName);
    if (knownType && knownType !== measureType) {
      return `Measure name '${r.measureName}' has type ${knownType} in this table; the record has ${measureType}.`;
    }
    if (
      !knownType &&
      this.t.measureTypes.size + this.plannedMeasures.size >= TABLE_LIMITS.maxMeasuresPerTable
    ) {
      return `The table would exceed ${TABLE_LIMITS.maxMeasuresPerTable} measure names.`;
    }
    if (r.kind === 'multi') {
      for (const a of r.measures) {
        const c = this.column(a.name);
        if (c && c.kind !== 'measure') {
          return `Column '${a.name}' is a dimension in this table and cannot be used as a measure.`;
        }
        if (c && c.type !== a.type) {
          return `Measure '${a.name}' has type ${c.type} in this table; the record has ${a.type}.`;
        }
        if (!c) cols.push({ name: a.name, kind: 'measure', type: a.type });
      }
    }
    for (const c of cols) {
      this.planned.set(c.name, c);
      this.newColumns.push(c);
    }
    this.dimensionCount += newDims;
    if (!knownType) {
      this.plannedMeasures.set(r.measureName, measureType);
      this.newMeasures.push({ name: r.measureName, type: measureType });
    }
    return undefined;
  }
}

function appendRow(
  appender: DuckDBAppender,
  order: readonly string[],
  schema: SchemaPlan,
  row: PendingRow,
): void {
  const r = row.record;
  const values = new Map<string, ScalarValue>();
  for (const [name, value] of r.dimensions) values.set(schema.physicalOf(name), value);
  if (r.kind === 'single') {
    const m = r.measures[0]!;
    values.set(SINGLE_VALUE_COLUMN[m.type], m.value);
  } else {
    for (const m of r.measures) values.set(schema.physicalOf(m.name), m.value);
  }
  for (const col of order) {
    switch (col) {
      case 'time_ns':
        appender.appendBigInt(r.timeNs);
        break;
      case 'series_key':
        appender.appendVarchar(r.seriesKey);
        break;
      case 'measure_name':
        appender.appendVarchar(r.measureName);
        break;
      case 'version':
        appender.appendBigInt(row.version);
        break;
      case 'value_key':
        appender.appendVarchar(r.valueKey);
        break;
      default: {
        const v = values.get(col);
        if (v === undefined) appender.appendNull();
        else if (typeof v === 'number') appender.appendDouble(v);
        else if (typeof v === 'bigint') appender.appendBigInt(v);
        else if (typeof v === 'boolean') appender.appendBoolean(v);
        else appender.appendVarchar(v);
      }
    }
  }
  appender.endRow();
}
