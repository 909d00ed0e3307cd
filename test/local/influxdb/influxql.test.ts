import { describe, expect, it } from 'vitest';
import { execute, InfluxQLError, parseInfluxQL, rfc3339 } from '../../../local/influxdb/influxql';
import { parseLineProtocol } from '../../../local/influxdb/line-protocol';

const MIN = 60_000_000_000n;
const T0 = 1_700_000_000_000_000_000n - (1_700_000_000_000_000_000n % (15n * MIN));
const points = parseLineProtocol(
  [
    `reading,zone=a,thing=x temperature=20,seq=1i ${T0}`,
    `reading,zone=a,thing=x temperature=22,seq=2i ${T0 + 5n * MIN}`,
    `reading,zone=b,thing=y temperature=18,co2=700,seq=1i ${T0 + 31n * MIN}`,
    `other,zone=a v=1 ${T0}`,
  ].join('\n'),
  'ns',
  0n,
);
const ms = (ns: bigint) => Number(ns / 1_000_000n);
const run = (q: string) => execute(parseInfluxQL(q, T0 + 60n * MIN), points, ms);

describe('InfluxQL subset', () => {
  it('selects every field and tag of a measurement, newest first, with a limit', () => {
    const [s] = run('SELECT * FROM "reading" ORDER BY time DESC LIMIT 2');
    expect(s!.columns).toEqual(['time', 'co2', 'seq', 'temperature', 'thing', 'zone']);
    expect(s!.values).toEqual([
      [ms(T0 + 31n * MIN), 700, 1, 18, 'y', 'b'],
      [ms(T0 + 5n * MIN), null, 2, 22, 'x', 'a'],
    ]);
  });

  it('averages per zone in time buckets from the WHERE range, leaving empty buckets out with fill(none)', () => {
    const series = run(
      `SELECT mean("temperature") AS v FROM "reading" WHERE time >= ${ms(T0)}ms AND time <= ${ms(T0 + 45n * MIN)}ms GROUP BY time(15m), "zone" fill(none)`,
    );
    expect(series).toEqual([
      { name: 'reading', tags: { zone: 'a' }, columns: ['time', 'v'], values: [[ms(T0), 21]] },
      { name: 'reading', tags: { zone: 'b' }, columns: ['time', 'v'], values: [[ms(T0 + 30n * MIN), 18]] },
    ]);
  });

  it('fills empty buckets with null by default', () => {
    const [s] = run(
      `SELECT count("seq") FROM "reading" WHERE "zone" = 'a' AND time >= now() - 60m GROUP BY time(15m)`,
    );
    expect(s!.values.map((v) => v[1])).toEqual([2, null, null, null, null]);
  });

  it('counts with tag and field conditions joined by OR', () => {
    const [s] = run(
      `SELECT count("seq") AS n FROM "reading" WHERE ("thing" = 'x' AND "seq" >= 2) OR ("thing" = 'y' AND "seq" >= 1)`,
    );
    expect(s!.values[0]![1]).toBe(2);
  });

  it('prints times as RFC3339 without trailing zeros', () => {
    expect(rfc3339(1_700_000_000_120_000_000n)).toBe('2023-11-14T22:13:20.12Z');
    expect(rfc3339(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20Z');
  });

  it.each([
    ['SHOW MEASUREMENTS', 'SELECT statements only'],
    ['SELECT derivative("v") FROM "m"', 'derivative() is not supported'],
    ['SELECT * FROM "a", "b"', 'several measurements'],
    ['SELECT v, mean(v) FROM "m"', 'mixing aggregate'],
    ['SELECT v FROM "m" GROUP BY time(5m)', 'aggregate function'],
    ['SELECT v FROM "m" ORDER BY v', 'only ORDER BY time'],
  ])('refuses %j, naming what is not supported', (q, message) => {
    expect(() => parseInfluxQL(q, 0n)).toThrow(InfluxQLError);
    expect(() => parseInfluxQL(q, 0n)).toThrow(message);
  });
});
