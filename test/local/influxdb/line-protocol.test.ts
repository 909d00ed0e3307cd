import { describe, expect, it } from 'vitest';
import { formatPoint, LineProtocolError, parseLineProtocol } from '../../../local/influxdb/line-protocol';

const NOW = 1_700_000_000_000_000_000n;

describe('line protocol', () => {
  it('reads measurement, escaped tags and fields of every type, with the time in the given precision', () => {
    const [p] = parseLineProtocol(
      'm\\ e\\,as,t\\ k\\=1=v\\,\\ \\=x b=T,f\\ k="a\\"b\\\\c",fl=1.5,i=5i,u=7u,e=1e3 1700000000000',
      'ms',
      NOW,
    );
    expect(p).toEqual({
      measurement: 'm e,as',
      tags: { 't k=1': 'v, =x' },
      fields: {
        b: { type: 'boolean', value: true },
        'f k': { type: 'string', value: 'a"b\\c' },
        fl: { type: 'float', value: 1.5 },
        i: { type: 'integer', value: 5n },
        u: { type: 'unsigned', value: 7n },
        e: { type: 'float', value: 1000 },
      },
      time: 1_700_000_000_000_000_000n,
    });
  });

  it('takes the server time for a point without a timestamp and skips blank and comment lines', () => {
    const points = parseLineProtocol('# comment\n\nm v=1\n', 'ns', NOW);
    expect(points).toHaveLength(1);
    expect(points[0]!.time).toBe(NOW);
  });

  it('round-trips a point through the store log format', () => {
    const [p] = parseLineProtocol('r,thing=a\\ b seq=3i,t=21.0,s="x" 5', 's', NOW);
    expect(parseLineProtocol(formatPoint(p!), 'ns', NOW)).toEqual([p]);
  });

  it.each([
    ['m', 'missing fields'],
    ['m v=', 'missing field value'],
    ['m v=abc', 'invalid field value "abc"'],
    ['m,t= v=1', 'missing tag value'],
    ['m v="open', 'unterminated string'],
    ['m v=1 12x', 'bad timestamp'],
    ['_m v=1', "starts with '_'"],
    ['m v=99999999999999999999i', 'out of range'],
  ])('refuses %j: %s', (line, reason) => {
    expect(() => parseLineProtocol(`ok v=1\n${line}`, 'ns', NOW)).toThrow(reason);
    try {
      parseLineProtocol(`ok v=1\n${line}`, 'ns', NOW);
    } catch (err) {
      expect(err).toBeInstanceOf(LineProtocolError);
      expect((err as LineProtocolError).line).toBe(2);
    }
  });
});
