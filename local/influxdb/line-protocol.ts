/**
 * Parses InfluxDB line protocol (InfluxDB OSS v2 reference, "Line protocol"):
 * `measurement[,tag=value...] field=value[,field=value...] [timestamp]`, one point per line.
 *
 * - Escapes: measurement `\,` `\ `; tag keys, tag values and field keys `\,` `\=` `\ `; string
 *   field values `\"` and `\\`. Blank lines and lines starting with `#` are skipped.
 * - Field values: float (`1`, `-1.5`, `1e3`), integer `5i`, unsigned `5u`, string `"..."`,
 *   boolean `t`, `T`, `true`, `True`, `TRUE`, `f`, `F`, `false`, `False`, `FALSE`.
 * - Timestamp: an integer in the write's precision, converted to nanoseconds; omitted, the
 *   server's time.
 * - Names starting with `_` are reserved ("Naming restrictions"); a point needs a field.
 *
 * A malformed line fails the parse with its 1-based line number and the line, as the
 * `/api/v2/write` 400 answer reports it.
 */

export type FieldValue =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'unsigned'; readonly value: bigint }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'boolean'; readonly value: boolean };

export interface Point {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** Nanoseconds since the epoch. */
  readonly time: bigint;
}

export type Precision = 'ns' | 'us' | 'ms' | 's';
export const PRECISIONS: readonly Precision[] = ['ns', 'us', 'ms', 's'];
const NS_PER: Record<Precision, bigint> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };

export class LineProtocolError extends Error {
  override readonly name = 'LineProtocolError';
  constructor(
    readonly line: number,
    readonly text: string,
    readonly reason: string,
  ) {
    super(`unable to parse '${text.length > 120 ? `${text.slice(0, 117)}...` : text}': ${reason}`);
  }
}

const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;
const UINT64_MAX = 18_446_744_073_709_551_615n;

export function parseLineProtocol(body: string, precision: Precision, now: bigint): Point[] {
  const points: Point[] = [];
  const lines = body.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    try {
      points.push(parseLine(line, precision, now));
    } catch (err) {
      throw new LineProtocolError(i + 1, line, (err as Error).message);
    }
  });
  return points;
}

function parseLine(line: string, precision: Precision, now: bigint): Point {
  let pos = 0;
  // measurement and tags: up to the first unescaped space
  const readUntil = (stops: string): string => {
    let out = '';
    while (pos < line.length) {
      const c = line[pos]!;
      if (c === '\\' && pos + 1 < line.length) {
        out += line[pos + 1];
        pos += 2;
        continue;
      }
      if (stops.includes(c)) break;
      out += c;
      pos++;
    }
    return out;
  };
  const measurement = readUntil(', ');
  if (measurement === '') throw new Error('missing measurement');
  const tags: Record<string, string> = {};
  while (line[pos] === ',') {
    pos++;
    const key = readUntil('=, ');
    if (line[pos] !== '=') throw new Error(`missing tag value for tag key "${key}"`);
    pos++;
    const value = readUntil(', ');
    if (key === '') throw new Error('missing tag key');
    if (value === '') throw new Error(`missing tag value for tag key "${key}"`);
    tags[key] = value;
  }
  if (line[pos] !== ' ') throw new Error('missing fields');
  while (line[pos] === ' ') pos++;
  const fields: Record<string, FieldValue> = {};
  for (;;) {
    const key = readUntil('=, ');
    if (key === '') throw new Error('missing field key');
    if (line[pos] !== '=') throw new Error(`missing field value for field key "${key}"`);
    pos++;
    fields[key] = readFieldValue();
    if (line[pos] === ',') {
      pos++;
      continue;
    }
    break;
  }
  let time = now;
  if (pos < line.length) {
    if (line[pos] !== ' ') throw new Error(`unexpected character '${line[pos]}' after the fields`);
    while (line[pos] === ' ') pos++;
    const ts = line.slice(pos).trim();
    if (ts !== '') {
      if (!/^-?\d+$/.test(ts)) throw new Error(`bad timestamp "${ts}"`);
      time = BigInt(ts) * NS_PER[precision];
      if (time > INT64_MAX || time < INT64_MIN) throw new Error(`timestamp ${ts} is out of range`);
    }
  }
  for (const name of [measurement, ...Object.keys(tags), ...Object.keys(fields)]) {
    if (name.startsWith('_')) throw new Error(`"${name}" starts with '_', which is reserved`);
  }
  return { measurement, tags, fields, time };

  function readFieldValue(): FieldValue {
    if (line[pos] === '"') {
      pos++;
      let out = '';
      while (pos < line.length && line[pos] !== '"') {
        if (line[pos] === '\\' && (line[pos + 1] === '"' || line[pos + 1] === '\\')) {
          out += line[pos + 1];
          pos += 2;
        } else out += line[pos++];
      }
      if (line[pos] !== '"') throw new Error('unterminated string field value');
      pos++;
      return { type: 'string', value: out };
    }
    let text = '';
    while (pos < line.length && line[pos] !== ',' && line[pos] !== ' ') text += line[pos++];
    if (text === '') throw new Error('missing field value');
    if (/^(t|T|true|True|TRUE)$/.test(text)) return { type: 'boolean', value: true };
    if (/^(f|F|false|False|FALSE)$/.test(text)) return { type: 'boolean', value: false };
    if (/^-?\d+i$/.test(text)) {
      const value = BigInt(text.slice(0, -1));
      if (value > INT64_MAX || value < INT64_MIN) throw new Error(`integer ${text} is out of range`);
      return { type: 'integer', value };
    }
    if (/^\d+u$/.test(text)) {
      const value = BigInt(text.slice(0, -1));
      if (value > UINT64_MAX) throw new Error(`unsigned ${text} is out of range`);
      return { type: 'unsigned', value };
    }
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
      const value = Number(text);
      if (!Number.isFinite(value)) throw new Error(`float ${text} is out of range`);
      return { type: 'float', value };
    }
    throw new Error(`invalid field value "${text}"`);
  }
}

/** The series key of a point: measurement and sorted tags. */
export function seriesKey(p: Pick<Point, 'measurement' | 'tags'>): string {
  return [
    p.measurement,
    ...Object.keys(p.tags)
      .sort()
      .map((k) => `${k}=${p.tags[k]}`),
  ].join(',');
}

/** A point back in line protocol with nanosecond time (the store's log format). */
export function formatPoint(p: Point): string {
  const esc = (s: string, chars: RegExp) => s.replace(chars, (c) => `\\${c}`);
  const tags = Object.keys(p.tags)
    .sort()
    .map((k) => `,${esc(k, /[,= \\]/g)}=${esc(p.tags[k]!, /[,= \\]/g)}`)
    .join('');
  const fields = Object.entries(p.fields)
    .map(([k, v]) => `${esc(k, /[,= \\]/g)}=${formatValue(v)}`)
    .join(',');
  return `${esc(p.measurement, /[, \\]/g)}${tags} ${fields} ${p.time}`;
}

function formatValue(v: FieldValue): string {
  switch (v.type) {
    case 'float':
      return Number.isInteger(v.value) ? `${v.value}.0` : String(v.value);
    case 'integer':
      return `${v.value}i`;
    case 'unsigned':
      return `${v.value}u`;
    case 'boolean':
      return v.value ? 'true' : 'false';
    case 'string':
      return `"${v.value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  }
}
