import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsServiceError } from '../../../local/common/aws-error';
import type { QueryResult, TimestreamService } from '../../../local/timestream';
import { engineReason, formatDouble, formatTimestamp } from '../../../local/timestream/query/runner';
import { call, NOW, openService, readingRecord, tempDir } from './helpers';

let service: TimestreamService;
const tmp = tempDir();
const MIN = 60_000;

beforeAll(async () => {
  service = await openService(tmp.dir);
  await service.createDatabase('db');
  await service.createTable('db', 'readings', { memoryStoreRetentionHours: 24 });
  const write = (records: unknown[]) =>
    call(service.writeRoute, 'WriteRecords', { DatabaseName: 'db', TableName: 'readings', Records: records });
  // Two zones, readings one minute apart over the last 20 minutes (bins start at 19:40, 19:45, 19:50, 19:55).
  const records = [];
  for (let i = 1; i <= 20; i++) {
    records.push(
      readingRecord({ zone: 'lobby', time: NOW - i * MIN, temperature: 20 + (i % 2), occupancy: i, seq: i }),
    );
    records.push(readingRecord({ zone: 'east', time: NOW - i * MIN, temperature: 18, humidity: 40, seq: i }));
  }
  await write(records);
  // Single-measure records beside them.
  await write([
    {
      Dimensions: [{ Name: 'zone', Value: 'lobby' }],
      MeasureName: 'power',
      MeasureValue: '1.5',
      Time: String(NOW - MIN),
    },
    {
      Dimensions: [{ Name: 'zone', Value: 'east' }],
      MeasureName: 'power',
      MeasureValue: '2.5',
      Time: String(NOW - MIN),
    },
  ]);
});

afterAll(async () => {
  await service.close();
  tmp.remove();
});

const values = (r: QueryResult) =>
  r.Rows.map((row) => row.Data.map((d) => (d.NullValue ? null : d.ScalarValue)));

async function refusal(sql: string): Promise<AwsServiceError> {
  try {
    await service.query(sql);
  } catch (err) {
    if (err instanceof AwsServiceError) return err;
    throw err;
  }
  throw new Error(`query was not refused: ${sql}`);
}

describe('Timestream query subset', () => {
  it('answers the dashboard query with 5-minute bins per zone', async () => {
    const r = await service.query(
      `SELECT zone, bin(time, 5m) AS t, avg(temperature) AS temperature FROM "db"."readings" WHERE time > ago(6h) AND measure_name = 'reading' GROUP BY zone, bin(time, 5m) ORDER BY t, zone`,
    );
    expect(r.ColumnInfo).toEqual([
      { Name: 'zone', Type: { ScalarType: 'VARCHAR' } },
      { Name: 't', Type: { ScalarType: 'TIMESTAMP' } },
      { Name: 'temperature', Type: { ScalarType: 'DOUBLE' } },
    ]);
    // lobby alternates 21 (odd minutes back) and 20 (even): each 5-minute bin holds five readings.
    expect(values(r)).toEqual([
      ['east', '2026-11-23 19:40:00.000000000', '18.0'],
      ['lobby', '2026-11-23 19:40:00.000000000', '20.4'],
      ['east', '2026-11-23 19:45:00.000000000', '18.0'],
      ['lobby', '2026-11-23 19:45:00.000000000', '20.6'],
      ['east', '2026-11-23 19:50:00.000000000', '18.0'],
      ['lobby', '2026-11-23 19:50:00.000000000', '20.4'],
      ['east', '2026-11-23 19:55:00.000000000', '18.0'],
      ['lobby', '2026-11-23 19:55:00.000000000', '20.6'],
    ]);
  });

  it('filters on a time range given with from_milliseconds and BETWEEN', async () => {
    const r = await service.query(
      `SELECT zone, time, temperature, humidity FROM "db"."readings" WHERE measure_name = 'reading' AND time BETWEEN from_milliseconds(${NOW - 2 * MIN}) AND from_milliseconds(${NOW}) ORDER BY time DESC, zone LIMIT 3`,
    );
    expect(values(r)).toEqual([
      ['east', '2026-11-23 19:59:00.000000000', '18.0', '40.0'],
      ['lobby', '2026-11-23 19:59:00.000000000', '21.0', null],
      ['east', '2026-11-23 19:58:00.000000000', '18.0', '40.0'],
    ]);
  });

  it('reads single-measure values through measure_value::double', async () => {
    const r = await service.query(
      `SELECT zone, measure_value::double AS power FROM "db"."readings" WHERE measure_name = 'power' ORDER BY zone`,
    );
    expect(values(r)).toEqual([
      ['east', '2.5'],
      ['lobby', '1.5'],
    ]);
  });

  it('filters dimensions with IN and OR', async () => {
    const r = await service.query(
      `SELECT count(*) AS n FROM "db"."readings" WHERE measure_name = 'reading' AND (zone IN ('east') OR zone = 'nowhere')`,
    );
    expect(values(r)).toEqual([['20']]);
  });

  it('types aggregates as Timestream does', async () => {
    const r = await service.query(
      `SELECT min(temperature), max(time), sum(occupancy), count(humidity) FROM "db"."readings" WHERE zone = 'lobby' AND measure_name = 'reading'`,
    );
    expect(r.ColumnInfo.map((c) => [c.Name, c.Type.ScalarType])).toEqual([
      ['_col0', 'DOUBLE'],
      ['_col1', 'TIMESTAMP'],
      ['_col2', 'BIGINT'],
      ['_col3', 'BIGINT'],
    ]);
    expect(values(r)).toEqual([['20.0', '2026-11-23 19:59:00.000000000', '210', '0']]);
  });

  it('compares time with now() minus a duration', async () => {
    const r = await service.query(
      `SELECT count(*) FROM "db"."readings" WHERE measure_name = 'reading' AND time >= now() - 5m`,
    );
    expect(values(r)).toEqual([['10']]);
  });

  it('returns NullValue for missing measures', async () => {
    const r = await service.query(
      `SELECT humidity FROM "db"."readings" WHERE zone = 'lobby' AND measure_name = 'reading' LIMIT 1`,
    );
    expect(r.Rows[0]?.Data[0]).toEqual({ NullValue: true });
  });

  it('pages results with MaxRows and NextToken', async () => {
    const sql = `SELECT seq FROM "db"."readings" WHERE zone = 'east' AND measure_name = 'reading' ORDER BY seq`;
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await service.query(sql, { maxRows: 7, ...(token ? { nextToken: token } : {}) });
      seen.push(...values(r).map((row) => String(row[0])));
      token = r.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
  });

  it('refuses a NextToken used with a different query', async () => {
    const first = await service.query(`SELECT seq FROM "db"."readings" WHERE measure_name = 'reading'`, {
      maxRows: 1,
    });
    const err = await service
      .query(`SELECT zone FROM "db"."readings"`, { nextToken: first.NextToken! })
      .catch((e: unknown) => e as AwsServiceError);
    expect((err as AwsServiceError).code).toBe('ValidationException');
  });
});

describe('more of the subset', () => {
  it('supports DISTINCT, NOT IN and LIKE', async () => {
    const r = await service.query(
      `SELECT DISTINCT zone FROM "db"."readings" WHERE zone NOT IN ('nowhere') AND thing LIKE '%-sensor' ORDER BY zone`,
    );
    expect(values(r)).toEqual([['east'], ['lobby']]);
  });

  it('supports GROUP BY and ORDER BY positions with HAVING', async () => {
    const r = await service.query(
      `SELECT zone, count(*) AS n FROM "db"."readings" WHERE measure_name = 'reading' GROUP BY 1 HAVING count(*) > 5 ORDER BY 1 DESC`,
    );
    expect(values(r)).toEqual([
      ['lobby', '20'],
      ['east', '20'],
    ]);
  });

  it('supports NOT BETWEEN with from_iso8601_timestamp', async () => {
    const r = await service.query(
      `SELECT count(*) FROM "db"."readings" WHERE measure_name = 'reading' AND time NOT BETWEEN from_iso8601_timestamp('2026-11-23T19:45:00Z') AND from_iso8601_timestamp('2026-11-23T20:00:00Z')`,
    );
    expect(values(r)).toEqual([['10']]);
  });

  it('divides BIGINTs as integers and mixes BIGINT and DOUBLE as DOUBLE', async () => {
    const r = await service.query(
      `SELECT max(seq) / 3, max(seq) / 3.0 FROM "db"."readings" WHERE measure_name = 'reading'`,
    );
    expect(r.ColumnInfo.map((c) => c.Type.ScalarType)).toEqual(['BIGINT', 'DOUBLE']);
    expect(values(r)[0]?.[0]).toBe('6');
  });

  it('pages about 1 MB at a time when MaxRows is not given', async () => {
    const r = await service.query(`SELECT * FROM "db"."readings"`);
    expect(r.Rows).toHaveLength(42);
    expect(r.NextToken).toBeUndefined();
  });
});

describe('query refusals name the unsupported construct', () => {
  it.each([
    ['a join', `SELECT * FROM "db"."readings" a JOIN "db"."readings" b ON a.zone = b.zone`, 'JOIN'],
    [
      'a subquery',
      `SELECT zone FROM "db"."readings" WHERE zone IN (SELECT zone FROM "db"."readings")`,
      'subqueries',
    ],
    [
      'an unknown function',
      `SELECT approx_percentile(temperature, 0.5) FROM "db"."readings"`,
      'approx_percentile',
    ],
    ['a window function', `SELECT avg(temperature) OVER (PARTITION BY zone) FROM "db"."readings"`, 'OVER'],
    ['CASE', `SELECT CASE WHEN zone = 'a' THEN 1 END FROM "db"."readings"`, 'CASE'],
    ['a WITH clause', `WITH x AS (SELECT 1) SELECT * FROM x`, 'WITH'],
    ['UNION', `SELECT zone FROM "db"."readings" UNION SELECT zone FROM "db"."readings"`, 'UNION'],
  ])('refuses %s', async (_what, sql, named) => {
    const err = await refusal(sql);
    expect(err.code).toBe('ValidationException');
    expect(err.message).toContain(named);
  });

  it.each([
    ['read_csv', `SELECT * FROM read_csv('/etc/passwd')`],
    ['read_text', `SELECT read_text('/etc/passwd') FROM "db"."readings"`],
    ['COPY ... TO', `COPY (SELECT 1) TO '/tmp/zonectl-copy'`],
    ['ATTACH', `ATTACH '/tmp/zonectl-attach.db' AS x`],
    ['INSTALL', 'INSTALL httpfs'],
    ['PRAGMA', 'PRAGMA version'],
    ['a second statement', `SELECT 1 FROM "db"."readings"; DROP TABLE readings`],
    ['a file path as a table', `SELECT * FROM '/etc/passwd'`],
  ])(
    "refuses %s before it reaches the engine, without the engine's SQL in the message",
    async (_what, sql) => {
      const err = await refusal(sql);
      expect(err.code).toBe('ValidationException');
      expect(err.status).toBe(400);
      // The translated DuckDB statement names its tables as "<db>__<table>" or similar; none shows.
      expect(err.message).not.toMatch(/duckdb|Binder Error|Parser Error|Catalog Error|__/i);
    },
  );

  it("keeps only the engine's reason, never its SQL", () => {
    expect(
      engineReason(
        new Error(
          "Conversion Error: Could not convert string 'abc' to DOUBLE\n\nLINE 1: SELECT CAST('abc' AS DOUBLE) FROM \"db__readings\"\n              ^",
        ),
      ),
    ).toBe("Could not convert string 'abc' to DOUBLE");
  });

  it.each([
    ['50,000 nested parentheses', `SELECT ${'('.repeat(50_000)}1${')'.repeat(50_000)} FROM "db"."readings"`],
    ['a chain of 50,000 additions', `SELECT 1${' + 1'.repeat(50_000)} FROM "db"."readings"`],
    ['50,000 nested calls', `SELECT ${'abs('.repeat(50_000)}1${')'.repeat(50_000)} FROM "db"."readings"`],
  ])('refuses %s with ValidationException, not a stack overflow', async (_what, sql) => {
    const err = await refusal(sql);
    expect(err.code).toBe('ValidationException');
    expect(err.status).toBe(400);
    expect(err.message).toContain('nested too deeply');
  });

  it('still runs a query nested a few dozen levels deep', async () => {
    const r = await service.query(
      `SELECT ${'('.repeat(40)}1${')'.repeat(40)} AS one FROM "db"."readings" LIMIT 1`,
    );
    expect(values(r)).toEqual([['1']]);
  });

  it('refuses an unknown column', async () => {
    const err = await refusal(`SELECT pressure FROM "db"."readings"`);
    expect(err.message).toContain("Column 'pressure' does not exist");
  });

  it('refuses an unknown table', async () => {
    const err = await refusal(`SELECT * FROM "db"."nope"`);
    expect(err.message).toContain('does not exist');
  });

  it('refuses a column that is neither grouped nor aggregated', async () => {
    const err = await refusal(`SELECT zone, thing, avg(temperature) FROM "db"."readings" GROUP BY zone`);
    expect(err.message).toContain('GROUP BY');
  });

  it('refuses comparing time with a string', async () => {
    const err = await refusal(`SELECT zone FROM "db"."readings" WHERE time > '2026-11-23'`);
    expect(err.message).toContain('cannot compare TIMESTAMP with VARCHAR');
  });

  it('refuses a GROUP BY on an output alias, as Timestream does', async () => {
    const err = await refusal(`SELECT bin(time, 5m) AS t, count(*) FROM "db"."readings" GROUP BY t`);
    expect(err.message).toContain("Column 't' does not exist");
  });
});

describe('result formatting', () => {
  it('formats timestamps with nanoseconds', () => {
    expect(formatTimestamp(BigInt(Date.UTC(2026, 10, 23, 20)) * 1_000_000n + 5n)).toBe(
      '2026-11-23 20:00:00.000000005',
    );
  });

  it('formats doubles as Java does', () => {
    expect([22, 21.5, 1e7, 0.0001, -3].map(formatDouble)).toEqual([
      '22.0',
      '21.5',
      '1.0E7',
      '1.0E-4',
      '-3.0',
    ]);
  });
});
