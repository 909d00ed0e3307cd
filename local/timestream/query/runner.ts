/**
 * Runs a Query (Timestream API Reference, "Query"): translates the query to SQL over the local
 * store, answers in Timestream's shape (QueryId, ColumnInfo, Rows of Data, QueryStatus) with
 * values printed as Timestream prints them, and pages the result with NextToken: at most
 * MaxRows rows a page, or about 1 MB without MaxRows.
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError, errorText, type LocalLogger } from '../../common';
import { validation } from '../errors';
import type { TimestreamStore } from '../store';
import type { Datum, QueryResult } from '../types';
import { QueryRefusal } from './errors';
import { type OutputColumn, translateQuery } from './translate';

/** Java's Double.toString, which Timestream's results follow ("21.5", "22.0", "1.0E7"). */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** Timestream's timestamp text: `2026-11-23 20:00:00.000000000`, UTC, nanoseconds. */
export function formatTimestamp(ns: bigint): string {
  const ms = ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n);
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac.toString().padStart(9, '0')}`;
}

function datum(value: unknown, type: OutputColumn['type']): Datum {
  if (value === null || value === undefined) return { NullValue: true };
  switch (type) {
    case 'DOUBLE':
      return { ScalarValue: formatDouble(Number(value)) };
    case 'TIMESTAMP':
      return { ScalarValue: formatTimestamp(BigInt(value as bigint | number)) };
    case 'BOOLEAN':
      return { ScalarValue: value ? 'true' : 'false' };
    default:
      return { ScalarValue: String(value) };
  }
}

interface CachedResult {
  readonly queryString: string;
  readonly queryId: string;
  readonly rows: Array<{ Data: Datum[] }>;
  readonly columnInfo: QueryResult['ColumnInfo'];
  readonly bytes: number;
  offset: number;
  readonly createdMs: number;
}

/** How long an unread NextToken stays valid locally. */
const TOKEN_TTL_MS = 10 * 60_000;
const MAX_CACHED = 64;
const DEFAULT_PAGE_BYTES = 1024 * 1024;

/**
 * The engine's reason without the engine's own SQL: DuckDB appends the failing statement
 * ("LINE 1: SELECT ...") after its first line, and that statement is the translation, not the
 * user's query; only the first line is kept, without DuckDB's error category.
 */
export function engineReason(err: unknown): string {
  const first = ((err as Error)?.message ?? String(err)).split('\n')[0] ?? '';
  return first.replace(/^[A-Z][A-Za-z ]* Error:\s*/, '').trim() || 'the engine refused it';
}

export class QueryRunner {
  private readonly pages = new Map<string, CachedResult>();

  constructor(
    private readonly store: TimestreamStore,
    private readonly log: LocalLogger,
  ) {}

  async query(body: Record<string, unknown>): Promise<QueryResult> {
    const queryString = body['QueryString'];
    if (typeof queryString !== 'string' || queryString.trim().length === 0)
      throw validation('QueryString is required.');
    if (queryString.length > 262144) throw validation('QueryString is longer than 262144 characters.');
    const maxRows = body['MaxRows'];
    if (
      maxRows !== undefined &&
      (typeof maxRows !== 'number' || !Number.isInteger(maxRows) || maxRows < 1 || maxRows > 1000)
    ) {
      throw validation('MaxRows must be a whole number from 1 to 1000.');
    }
    this.evict();
    const token = body['NextToken'];
    if (token !== undefined && token !== null) {
      const cached = typeof token === 'string' ? this.pages.get(token) : undefined;
      if (!cached)
        throw validation('The NextToken is invalid or has expired; run the query again without it.');
      if (cached.queryString !== queryString)
        throw validation('The NextToken belongs to a different QueryString.');
      this.pages.delete(token as string);
      return this.page(cached, maxRows as number | undefined);
    }
    const result = await this.run(queryString);
    return this.page(result, maxRows as number | undefined);
  }

  private async run(queryString: string): Promise<CachedResult> {
    let translated: ReturnType<typeof translateQuery>;
    try {
      translated = translateQuery(
        queryString,
        (db, table) => {
          const t = this.store.catalog.find(db, table);
          if (!t) {
            if (!this.store.catalog.databases.has(db))
              throw new QueryRefusal(`Database "${db}" does not exist`);
            throw new QueryRefusal(`Table "${db}"."${table}" does not exist`);
          }
          return t;
        },
        this.store.now(),
      );
    } catch (err) {
      if (err instanceof QueryRefusal) throw validation(err.message);
      throw err;
    }
    const { columns, sql } = translated;
    let rawRows: unknown[][];
    try {
      rawRows = await this.store.read(async (conn) => (await conn.runAndReadAll(sql)).getRows());
    } catch (err) {
      if (err instanceof AwsServiceError) throw err;
      this.log.warn(`query failed in the store: ${errorText(err)}; SQL: ${sql}`);
      throw validation(`The query could not be run by the local Timestream: ${engineReason(err)}`);
    }
    const rows = rawRows.map((r) => ({ Data: columns.map((c, i) => datum(r[i], c.type)) }));
    return {
      queryString,
      queryId: randomUUID(),
      rows,
      columnInfo: columns.map((c) => ({ Name: c.name, Type: { ScalarType: c.type } })),
      bytes: rows.length * 64 * Math.max(1, columns.length),
      offset: 0,
      createdMs: Date.now(),
    };
  }

  private page(result: CachedResult, maxRows: number | undefined): QueryResult {
    let end = result.offset;
    if (maxRows !== undefined) end = Math.min(result.rows.length, result.offset + maxRows);
    else {
      let size = 0;
      while (end < result.rows.length && size < DEFAULT_PAGE_BYTES) {
        size += JSON.stringify(result.rows[end]).length;
        end++;
      }
    }
    const rows = result.rows.slice(result.offset, end);
    let nextToken: string | undefined;
    if (end < result.rows.length) {
      nextToken = randomUUID();
      this.pages.set(nextToken, { ...result, offset: end });
    }
    return {
      QueryId: result.queryId,
      ...(nextToken ? { NextToken: nextToken } : {}),
      Rows: rows,
      ColumnInfo: result.columnInfo,
      QueryStatus: {
        ProgressPercentage: 100,
        CumulativeBytesScanned: result.bytes,
        CumulativeBytesMetered: Math.max(10_000_000, result.bytes),
      },
    };
  }

  private evict(): void {
    const now = Date.now();
    for (const [token, r] of this.pages) {
      if (now - r.createdMs > TOKEN_TTL_MS) this.pages.delete(token);
    }
    while (this.pages.size > MAX_CACHED) {
      const oldest = this.pages.keys().next().value as string;
      this.pages.delete(oldest);
    }
  }
}
