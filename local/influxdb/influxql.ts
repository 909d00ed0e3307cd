/**
 * The InfluxQL subset the local InfluxDB answers on `/query` (InfluxDB OSS v2, "/query 1.x
 * compatibility API"; InfluxQL reference: "Explore data using InfluxQL", "InfluxQL functions"):
 *
 *   SELECT <* | field | fn(field) [AS alias], ...> FROM <measurement | "db"."rp"."measurement">
 *     [WHERE <condition>] [GROUP BY time(<duration>) [, tag ...] | tag, ...] [fill(null|none|<number>)]
 *     [ORDER BY time [ASC|DESC]] [LIMIT n]
 *
 * - Conditions: AND, OR, parentheses; `time` compared with integers (nanoseconds), RFC3339
 *   strings, `now()` and `now() - <duration>`; tags and fields compared with = != < <= > >=
 *   against strings or numbers; tag `=~`/`!~` regular expressions.
 * - Functions: mean, count, sum, min, max, first, last.
 * - GROUP BY time() buckets start at multiples of the interval since the epoch; empty buckets
 *   inside the WHERE time range are filled with null unless fill(none) or fill(<number>).
 * - Results as InfluxDB 1.x JSON: one series per measurement and tag group, `time` first.
 *
 * Anything else (several measurements, subqueries, SHOW, math in the select list, other
 * functions, SLIMIT/OFFSET) is refused with an error naming it, as InfluxDB would answer an
 * unsupported or wrong query: `{"results":[{"statement_id":0,"error":"..."}]}`.
 */
import type { FieldValue, Point } from './line-protocol';

export class InfluxQLError extends Error {
  override readonly name = 'InfluxQLError';
}

type Cond =
  | { kind: 'and'; left: Cond; right: Cond }
  | { kind: 'or'; left: Cond; right: Cond }
  | { kind: 'cmp'; name: string; op: string; value: Literal }
  | { kind: 'regex'; name: string; op: '=~' | '!~'; re: RegExp };
type Literal =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'time'; value: bigint };

export interface SelectStatement {
  readonly fields: ReadonlyArray<{ fn?: string; name: string; alias: string }>;
  readonly star: boolean;
  readonly measurement: string;
  readonly where?: Cond;
  readonly groupByTime?: bigint;
  readonly groupByTags: readonly string[];
  readonly groupByAllTags: boolean;
  readonly fill: 'null' | 'none' | number;
  readonly descending: boolean;
  readonly limit?: number;
  /** The server's time when the query was parsed: `now()`, and the upper bound of GROUP BY time() without one. */
  readonly now: bigint;
}

const FUNCTIONS = ['mean', 'count', 'sum', 'min', 'max', 'first', 'last'];
/** Nanoseconds per InfluxQL duration unit (also the `epoch` units of /query answers). */
export const DURATION_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  u: 1_000n,
  µ: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
  w: 604_800_000_000_000n,
};

// ---- tokens --------------------------------------------------------------------------------

type Tok = { t: 'id' | 'str' | 'num' | 'dur' | 'op' | 'regex'; v: string };

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let s = '';
      i++;
      while (i < q.length && q[i] !== c) {
        if (q[i] === '\\' && i + 1 < q.length) {
          s += q[i + 1];
          i += 2;
        } else s += q[i++];
      }
      if (q[i] !== c) throw new InfluxQLError(`found EOF, expected ${c} to close a quoted text`);
      i++;
      out.push({ t: c === '"' ? 'id' : 'str', v: s });
      continue;
    }
    if (c === '/' && out.length > 0 && (out.at(-1)!.v === '=~' || out.at(-1)!.v === '!~')) {
      let s = '';
      i++;
      while (i < q.length && q[i] !== '/') {
        if (q[i] === '\\' && q[i + 1] === '/') {
          s += '/';
          i += 2;
        } else s += q[i++];
      }
      i++;
      out.push({ t: 'regex', v: s });
      continue;
    }
    const num = /^(\d+(\.\d+)?)(ns|ms|u|µ|s|m|h|d|w)?/.exec(q.slice(i));
    if (num) {
      out.push({ t: num[3] ? 'dur' : 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const op = /^(=~|!~|!=|<>|<=|>=|=|<|>|\(|\)|,|\*|-|\+|\.|;)/.exec(q.slice(i));
    if (op) {
      out.push({ t: 'op', v: op[0] === '<>' ? '!=' : op[0] });
      i += op[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(q.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    throw new InfluxQLError(`found ${c}, expected a statement`);
  }
  return out;
}

// ---- parser --------------------------------------------------------------------------------

export function parseInfluxQL(query: string, now: bigint): SelectStatement {
  const toks = tokenize(query.trim().replace(/;\s*$/, ''));
  let p = 0;
  const peek = () => toks[p];
  const kw = (word: string) => peek()?.t === 'id' && peek()!.v.toUpperCase() === word;
  const expectKw = (word: string) => {
    if (!kw(word)) throw new InfluxQLError(`found ${peek()?.v ?? 'EOF'}, expected ${word}`);
    p++;
  };
  const expectOp = (op: string) => {
    if (peek()?.t !== 'op' || peek()!.v !== op)
      throw new InfluxQLError(`found ${peek()?.v ?? 'EOF'}, expected ${op}`);
    p++;
  };
  const ident = () => {
    const t = peek();
    if (t?.t !== 'id') throw new InfluxQLError(`found ${t?.v ?? 'EOF'}, expected an identifier`);
    p++;
    return t.v;
  };
  if (!kw('SELECT')) {
    throw new InfluxQLError(
      `the local InfluxDB answers SELECT statements only; got "${query.trim().split(/\s+/).slice(0, 2).join(' ')}"`,
    );
  }
  p++;
  const fields: Array<{ fn?: string; name: string; alias: string }> = [];
  let star = false;
  for (;;) {
    if (peek()?.v === '*') {
      p++;
      star = true;
    } else {
      const name = ident();
      if (peek()?.v === '(') {
        const fn = name.toLowerCase();
        if (!FUNCTIONS.includes(fn)) {
          throw new InfluxQLError(
            `function ${name}() is not supported locally (supported: ${FUNCTIONS.join(', ')})`,
          );
        }
        p++;
        const arg = ident();
        expectOp(')');
        let alias = fn;
        if (kw('AS')) {
          p++;
          alias = ident();
        }
        fields.push({ fn, name: arg, alias });
      } else {
        let alias = name;
        if (kw('AS')) {
          p++;
          alias = ident();
        }
        fields.push({ name, alias });
      }
    }
    if (peek()?.v === ',') {
      p++;
      continue;
    }
    break;
  }
  if (star && fields.length > 0)
    throw new InfluxQLError('mixing * with other fields is not supported locally');
  const aggregated = fields.some((f) => f.fn);
  if (aggregated && fields.some((f) => !f.fn)) {
    throw new InfluxQLError('mixing aggregate and non-aggregate queries is not supported');
  }
  expectKw('FROM');
  let measurement = ident();
  while (peek()?.v === '.') {
    p++;
    measurement = ident();
  }
  if (peek()?.v === ',')
    throw new InfluxQLError('selecting from several measurements is not supported locally');
  let where: Cond | undefined;
  if (kw('WHERE')) {
    p++;
    where = parseOr();
  }
  let groupByTime: bigint | undefined;
  const groupByTags: string[] = [];
  let groupByAllTags = false;
  if (kw('GROUP')) {
    p++;
    expectKw('BY');
    for (;;) {
      if (kw('TIME') && toks[p + 1]?.v === '(') {
        p += 2;
        const d = peek();
        if (d?.t !== 'dur') throw new InfluxQLError(`found ${d?.v ?? 'EOF'}, expected a duration in time()`);
        p++;
        groupByTime = duration(d.v);
        expectOp(')');
      } else if (peek()?.v === '*') {
        p++;
        groupByAllTags = true;
      } else groupByTags.push(ident());
      if (peek()?.v === ',') {
        p++;
        continue;
      }
      break;
    }
    if (groupByTime !== undefined && !aggregated) {
      throw new InfluxQLError('GROUP BY requires at least one aggregate function');
    }
  }
  let fill: 'null' | 'none' | number = 'null';
  if (kw('FILL')) {
    p++;
    expectOp('(');
    const t = peek();
    p++;
    if (t?.t === 'num') fill = Number(t.v);
    else if (t?.t === 'id' && (t.v.toLowerCase() === 'null' || t.v.toLowerCase() === 'none')) {
      fill = t.v.toLowerCase() as 'null' | 'none';
    } else throw new InfluxQLError(`fill(${t?.v ?? ''}) is not supported locally (null, none or a number)`);
    expectOp(')');
  }
  let descending = false;
  if (kw('ORDER')) {
    p++;
    expectKw('BY');
    const col = ident();
    if (col.toLowerCase() !== 'time') throw new InfluxQLError('only ORDER BY time is supported');
    if (kw('DESC')) {
      p++;
      descending = true;
    } else if (kw('ASC')) p++;
  }
  let limit: number | undefined;
  if (kw('LIMIT')) {
    p++;
    const t = peek();
    if (t?.t !== 'num') throw new InfluxQLError(`found ${t?.v ?? 'EOF'}, expected a number after LIMIT`);
    p++;
    limit = Number(t.v);
  }
  if (p < toks.length)
    throw new InfluxQLError(`found ${toks[p]!.v}, expected end of the statement (not supported locally)`);
  return {
    fields,
    star,
    measurement,
    where,
    groupByTime,
    groupByTags,
    groupByAllTags,
    fill,
    descending,
    limit,
    now,
  };

  function parseOr(): Cond {
    let left = parseAnd();
    while (kw('OR')) {
      p++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  }
  function parseAnd(): Cond {
    let left = parseAtom();
    while (kw('AND')) {
      p++;
      left = { kind: 'and', left, right: parseAtom() };
    }
    return left;
  }
  function parseAtom(): Cond {
    if (peek()?.v === '(') {
      p++;
      const c = parseOr();
      expectOp(')');
      return c;
    }
    const name = ident();
    const op = peek();
    if (op?.t !== 'op' || !['=', '!=', '<', '<=', '>', '>=', '=~', '!~'].includes(op.v)) {
      throw new InfluxQLError(`found ${op?.v ?? 'EOF'}, expected a comparison after ${name}`);
    }
    p++;
    if (op.v === '=~' || op.v === '!~') {
      const re = peek();
      if (re?.t !== 'regex') throw new InfluxQLError('expected a /regular expression/');
      p++;
      return { kind: 'regex', name, op: op.v, re: new RegExp(re.v) };
    }
    return { kind: 'cmp', name, op: op.v, value: literal(name.toLowerCase() === 'time') };
  }
  function literal(isTime: boolean): Literal {
    const t = peek();
    if (isTime && kw('NOW')) {
      p++;
      expectOp('(');
      expectOp(')');
      let value = now;
      while (peek()?.v === '-' || peek()?.v === '+') {
        const sign = peek()!.v;
        p++;
        const d = peek();
        if (d?.t !== 'dur') throw new InfluxQLError('expected a duration after now() -');
        p++;
        value = sign === '-' ? value - duration(d.v) : value + duration(d.v);
      }
      return { type: 'time', value };
    }
    let negative = false;
    if (t?.v === '-') {
      p++;
      negative = true;
    }
    const v = peek();
    p++;
    if (v?.t === 'str') {
      if (isTime) {
        const ms = Date.parse(v.v);
        if (Number.isNaN(ms)) throw new InfluxQLError(`invalid time '${v.v}'`);
        return { type: 'time', value: rfc3339ToNs(v.v) };
      }
      return { type: 'string', value: v.v };
    }
    if (v?.t === 'num') {
      if (isTime) return { type: 'time', value: BigInt(v.v.split('.')[0]!) * (negative ? -1n : 1n) };
      return { type: 'number', value: Number(v.v) * (negative ? -1 : 1) };
    }
    if (v?.t === 'dur' && isTime) return { type: 'time', value: duration(v.v) };
    throw new InfluxQLError(`found ${v?.v ?? 'EOF'}, expected a value`);
  }
}

function duration(text: string): bigint {
  const m = /^(\d+)(ns|ms|u|µ|s|m|h|d|w)$/.exec(text);
  if (!m) throw new InfluxQLError(`invalid duration ${text}`);
  return BigInt(m[1]!) * DURATION_NS[m[2]!]!;
}

function rfc3339ToNs(text: string): bigint {
  const m = /\.(\d+)/.exec(text);
  const ms = BigInt(Date.parse(text));
  if (!m) return ms * 1_000_000n;
  const frac = `${m[1]!}000000000`.slice(0, 9);
  return (ms / 1000n) * 1_000_000_000n + BigInt(frac);
}

// ---- execution -----------------------------------------------------------------------------

export interface Series {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}

type Row = { time: bigint; tags: Record<string, string>; fields: Record<string, FieldValue> };

export function execute(
  stmt: SelectStatement,
  points: readonly Point[],
  formatTime: (ns: bigint) => unknown,
): Series[] {
  const rows: Row[] = points
    .filter((pt) => pt.measurement === stmt.measurement)
    .map((pt) => ({ time: pt.time, tags: { ...pt.tags }, fields: { ...pt.fields } }))
    .filter((r) => !stmt.where || evaluate(stmt.where, r));
  const range = timeRange(stmt.where);
  const aggregated = stmt.fields.some((f) => f.fn);
  const groupTags = stmt.groupByAllTags
    ? [...new Set(rows.flatMap((r) => Object.keys(r.tags)))].sort()
    : [...stmt.groupByTags];
  const groups = new Map<string, { tags: Record<string, string>; rows: Row[] }>();
  for (const r of rows) {
    const tags: Record<string, string> = {};
    for (const t of groupTags) tags[t] = r.tags[t] ?? '';
    const key = JSON.stringify(tags);
    const g = groups.get(key) ?? { tags, rows: [] };
    g.rows.push(r);
    groups.set(key, g);
  }
  const series: Series[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    g.rows.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    let columns: string[];
    let values: unknown[][];
    if (!aggregated) {
      const names = stmt.star
        ? [...new Set(g.rows.flatMap((r) => [...Object.keys(r.fields), ...Object.keys(r.tags)]))]
            .filter((n) => !groupTags.includes(n))
            .sort()
        : stmt.fields.map((f) => f.name);
      columns = ['time', ...(stmt.star ? names : stmt.fields.map((f) => f.alias))];
      values = g.rows.map((r) => [formatTime(r.time), ...names.map((n) => cell(r, n))]);
    } else {
      columns = ['time', ...stmt.fields.map((f) => f.alias)];
      const interval = stmt.groupByTime;
      if (interval === undefined) {
        const start = range.from ?? 0n;
        values =
          g.rows.length === 0
            ? []
            : [[formatTime(start), ...stmt.fields.map((f) => aggregate(f.fn!, f.name, g.rows))]];
      } else {
        const buckets = new Map<bigint, Row[]>();
        for (const r of g.rows) {
          const b = floorDiv(r.time, interval) * interval;
          const list = buckets.get(b) ?? [];
          list.push(r);
          buckets.set(b, list);
        }
        const first =
          range.from !== undefined ? floorDiv(range.from, interval) * interval : [...buckets.keys()][0];
        const last =
          // Without an upper time bound, GROUP BY time() runs up to now() (InfluxQL's documented default).
          floorDiv(range.to ?? stmt.now, interval) * interval;
        values = [];
        if (first !== undefined && last !== undefined) {
          for (let t = first; t <= last; t += interval) {
            const bucket = buckets.get(t);
            if (!bucket) {
              if (stmt.fill === 'none') continue;
              values.push([
                formatTime(t),
                ...stmt.fields.map((f) => (stmt.fill === 'null' ? null : f.fn === 'count' ? 0 : stmt.fill)),
              ]);
              continue;
            }
            values.push([formatTime(t), ...stmt.fields.map((f) => aggregate(f.fn!, f.name, bucket))]);
          }
        }
      }
    }
    if (stmt.descending) values.reverse();
    if (stmt.limit !== undefined) values = values.slice(0, stmt.limit);
    if (values.length === 0) continue;
    series.push({
      name: stmt.measurement,
      ...(groupTags.length > 0 ? { tags: g.tags } : {}),
      columns,
      values,
    });
  }
  return series;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function cell(r: Row, name: string): unknown {
  const f = r.fields[name];
  if (f) return jsonValue(f);
  return r.tags[name] ?? null;
}

function jsonValue(f: FieldValue): unknown {
  return f.type === 'integer' || f.type === 'unsigned' ? Number(f.value) : f.value;
}

function aggregate(fn: string, name: string, rows: readonly Row[]): unknown {
  const vals = rows.map((r) => r.fields[name]).filter((f): f is FieldValue => f !== undefined);
  if (fn === 'count') return vals.length;
  if (vals.length === 0) return null;
  if (fn === 'first') return jsonValue(vals[0]!);
  if (fn === 'last') return jsonValue(vals.at(-1)!);
  const nums = vals.map((v) => Number(jsonValue(v))).filter((n) => Number.isFinite(n));
  if (nums.length === 0) return null;
  switch (fn) {
    case 'mean':
      return nums.reduce((a, b) => a + b, 0) / nums.length;
    case 'sum':
      return nums.reduce((a, b) => a + b, 0);
    case 'min':
      return Math.min(...nums);
    default:
      return Math.max(...nums);
  }
}

function evaluate(c: Cond, r: Row): boolean {
  if (c.kind === 'and' || c.kind === 'or') {
    return c.kind === 'and'
      ? evaluate(c.left, r) && evaluate(c.right, r)
      : evaluate(c.left, r) || evaluate(c.right, r);
  }
  if (c.kind === 'regex') {
    const v = r.tags[c.name] ?? '';
    return c.op === '=~' ? c.re.test(v) : !c.re.test(v);
  }
  let left: string | number | bigint | undefined;
  if (c.name.toLowerCase() === 'time') left = r.time;
  else if (r.fields[c.name]) left = jsonValue(r.fields[c.name]!) as number | string;
  else left = r.tags[c.name] ?? (c.value.type === 'string' ? '' : undefined);
  if (left === undefined || typeof left === 'boolean') return false;
  const right = c.value.value;
  const cmp = (a: string | number | bigint, b: string | number | bigint): number => {
    if (typeof a === 'bigint' || typeof b === 'bigint') {
      const x = BigInt(a as bigint);
      const y = typeof b === 'bigint' ? b : BigInt(Math.trunc(Number(b)));
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  };
  const d = cmp(left, right);
  switch (c.op) {
    case '=':
      return d === 0;
    case '!=':
      return d !== 0;
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '>':
      return d > 0;
    default:
      return d >= 0;
  }
}

/** The time range a WHERE clause's top-level AND terms give (for GROUP BY time() filling). */
function timeRange(c: Cond | undefined): { from?: bigint; to?: bigint } {
  const out: { from?: bigint; to?: bigint } = {};
  const visit = (x: Cond | undefined) => {
    if (!x) return;
    if (x.kind === 'and') {
      visit(x.left);
      visit(x.right);
      return;
    }
    if (x.kind !== 'cmp' || x.name.toLowerCase() !== 'time' || x.value.type !== 'time') return;
    const v = x.value.value;
    if (x.op === '>' || x.op === '>=') out.from = out.from === undefined || v > out.from ? v : out.from;
    if (x.op === '<' || x.op === '<=') out.to = out.to === undefined || v < out.to ? v : out.to;
  };
  visit(c);
  return out;
}

/** RFC3339 with nanoseconds as InfluxDB prints it: trailing zeros of the fraction dropped. */
export function rfc3339(ns: bigint): string {
  const ms = ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n);
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n)
    .toString()
    .padStart(9, '0')
    .replace(/0+$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}
