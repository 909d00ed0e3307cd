/**
 * IoT SQL functions (AWS IoT developer guide, "Functions"): every function of the reference
 * for SQL version 2016-03-23. Invalid arguments give Undefined rather than an error, as AWS
 * documents. Names are matched case-insensitively. External functions (those that call
 * another service) are listed here with their arity; external-functions.ts runs them.
 *
 * LIMITATIONS versus AWS: regexp_* use JavaScript regular expressions, not Java's (the
 * common syntax is the same; possessive quantifiers and `\p{javaLowerCase}` are not).
 * Decimal results are double precision. The local broker speaks MQTT 3.1.1, so
 * get_mqtt_property() and get_user_properties() are always Undefined (no MQTT 5 properties).
 * bitnot() is the two's-complement NOT (`bitnot(13)` is -14), where AWS's reference page
 * shows 2 for it.
 */
import { createHash } from 'node:crypto';
import md2Hex from 'js-md2';
import type { CastType } from './ast';
import { formatJodaTime, loadJavaTime, parseJavaTime } from './time-functions';
import { type SqlValue, toBoolean, toNumber, toSqlString, typeOf } from './values';
import { SQL_VERSION_2016 } from './version';

/** What a function can see of the message being evaluated. */
export interface FunctionContext {
  /** The topic as the rule sees it (without the Basic Ingest prefix). */
  readonly topic: string;
  readonly clientId?: string;
  readonly principal?: string;
  readonly timestamp: number;
  readonly accountId: string;
  /** The original payload bytes (for `encode(*, 'base64')`). */
  readonly payload: Buffer;
  readonly newUuid: () => string;
  /** The IP address the publisher connected from (sourceip()); absent when not MQTT. */
  readonly sourceIp?: string;
}

export interface FunctionSpec {
  readonly min: number;
  readonly max: number;
  readonly fn: (args: SqlValue[], ctx: FunctionContext) => SqlValue;
  /** Calls another service: the evaluator yields the call (external-functions.ts runs it). */
  readonly external?: true;
  /** Loads what the function needs, when a rule using it is compiled. */
  readonly prepare?: () => void;
}

const asInt = (v: SqlValue): number | undefined => {
  const n = toNumber(v);
  return n === undefined ? undefined : Math.trunc(n);
};

/** String argument: Strings as they are, numbers and Booleans in their string form. */
const asText = (v: SqlValue): string | undefined => {
  const t = typeOf(v);
  return t === 'String' || t === 'Int' || t === 'Decimal' || t === 'Boolean' ? toSqlString(v) : undefined;
};

const numeric =
  (f: (n: number) => number) =>
  ([x]: SqlValue[]): SqlValue => {
    const n = toNumber(x);
    if (n === undefined) return undefined;
    const r = f(n);
    return Number.isFinite(r) ? r : undefined;
  };

const text =
  (f: (s: string) => SqlValue) =>
  ([x]: SqlValue[]): SqlValue => {
    const s = asText(x);
    return s === undefined ? undefined : f(s);
  };

const text2 =
  (f: (a: string, b: string) => SqlValue) =>
  ([x, y]: SqlValue[]): SqlValue => {
    const a = asText(x);
    const b = asText(y);
    return a === undefined || b === undefined ? undefined : f(a, b);
  };

/** lpad/rpad counts: "between 0 and 1000", a value outside set to the nearest valid one. */
const clampPad = (n: number) => Math.max(0, Math.min(1000, n));

/** Half away from zero, as AWS's round(1.5)=2, round(-1.5)=-2 examples show. */
export const roundHalfAwayFromZero = (n: number): number => Math.sign(n) * Math.round(Math.abs(n));

function truncDigits(n: number, digits: number): number {
  const s = String(n);
  if (/e/i.test(s)) {
    const f = 10 ** digits;
    return Math.trunc(n * f) / f;
  }
  const [whole, frac = ''] = s.split('.');
  return Number(digits === 0 || frac === '' ? whole : `${whole}.${frac.slice(0, digits)}`);
}

function remainder([a, b]: SqlValue[]): SqlValue {
  const x = toNumber(a);
  const y = toNumber(b);
  if (x === undefined || y === undefined || y === 0) return undefined;
  return x % y;
}

function get([coll, key]: SqlValue[]): SqlValue {
  const t = typeOf(coll);
  if (t === 'Array' || t === 'String') {
    const i = asInt(key);
    const items = t === 'String' ? Array.from(coll as string) : (coll as unknown[]);
    if (i === undefined || i < 0 || i >= items.length) return undefined;
    return items[i];
  }
  if (t === 'Object' && typeof key === 'string') {
    const o = coll as Record<string, unknown>;
    return Object.hasOwn(o, key) ? o[key] : undefined;
  }
  return undefined;
}

function concat(args: SqlValue[]): SqlValue {
  if (args.length === 0) return undefined;
  if (args.length === 1) return args[0];
  if (args.some(Array.isArray)) return args.flatMap((a) => (Array.isArray(a) ? a : [a]));
  if (args.some((a) => typeof a === 'string')) {
    const parts = args.map(toSqlString);
    return parts.some((p) => p === undefined) ? undefined : parts.join('');
  }
  return undefined;
}

function substring([s, from, to]: SqlValue[]): SqlValue {
  const str = asText(s);
  const i = asInt(from);
  if (str === undefined || i === undefined) return undefined;
  const chars = Array.from(str);
  const clamp = (n: number) => Math.max(0, Math.min(chars.length, n));
  const start = clamp(i);
  const end = to === undefined ? chars.length : asInt(to);
  if (end === undefined) return undefined;
  const stop = clamp(end);
  return start >= stop ? '' : chars.slice(start, stop).join('');
}

function encode([value, encoding]: SqlValue[], ctx: FunctionContext, star: boolean): SqlValue {
  if (typeof encoding !== 'string' || encoding.toLowerCase() !== 'base64') return undefined;
  if (star) return ctx.payload.toString('base64');
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  const s = typeof value === 'string' ? value : toSqlString(value);
  return s === undefined ? undefined : Buffer.from(s, 'utf8').toString('base64');
}

function decode([value, encoding]: SqlValue[]): SqlValue {
  if (typeof value !== 'string' || typeof encoding !== 'string' || encoding.toLowerCase() !== 'base64') {
    return undefined;
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 === 1) return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

const hash =
  (algorithm: string) =>
  ([x]: SqlValue[]): SqlValue => {
    const s = asText(x);
    return s === undefined ? undefined : createHash(algorithm).update(s, 'utf8').digest('hex');
  };

function regex(pattern: SqlValue): RegExp | undefined {
  if (typeof pattern !== 'string') return undefined;
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

/** Bitwise operations on Int-converted arguments (Decimals and numeric strings rounded down). */
const bitwise =
  (f: (a: bigint, b: bigint) => bigint) =>
  ([x, y]: SqlValue[]): SqlValue => {
    const a = toNumber(x);
    const b = toNumber(y);
    if (a === undefined || b === undefined) return undefined;
    return Number(BigInt.asIntN(64, f(BigInt(Math.floor(a)), BigInt(Math.floor(b)))));
  };

/** transform('enrichArray', object, array): each array object with the object's attributes added. */
function transform([mode, obj, arr]: SqlValue[]): SqlValue {
  if (mode !== 'enrichArray' || typeOf(obj) !== 'Object' || !Array.isArray(arr)) return undefined;
  if (!arr.every((item) => typeOf(item) === 'Object')) return undefined;
  return arr.map((item) => ({ ...(item as object), ...(obj as object) }));
}

/** parse_time(pattern, epochMillis[, timezone]): Joda-Time formatting, UTC by default. */
function parseTime([pattern, ts, zone]: SqlValue[]): SqlValue {
  const millis = toNumber(ts);
  if (typeof pattern !== 'string' || millis === undefined) return undefined;
  if (zone !== undefined && typeof zone !== 'string') return undefined;
  return formatJodaTime(pattern, Math.trunc(millis), zone ?? 'UTC');
}

/** time_to_epoch(timestamp, pattern): java.time parsing to epoch milliseconds. */
function timeToEpoch([text, pattern]: SqlValue[]): SqlValue {
  if (typeof text !== 'string' || typeof pattern !== 'string') return undefined;
  return parseJavaTime(text, pattern);
}

const external = (min: number, max: number): FunctionSpec => ({
  min,
  max,
  external: true,
  fn: () => {
    throw new Error('external functions are run by external-functions.ts');
  },
});

const FUNCTIONS: Record<string, FunctionSpec> = {
  // Message context ("Functions": topic, clientid, principal, timestamp, ...)
  topic: {
    min: 0,
    max: 1,
    fn: (args, ctx) => {
      if (args.length === 0) return ctx.topic;
      const n = asInt(args[0]);
      if (n === undefined || n < 1) return undefined;
      return ctx.topic.split('/')[n - 1];
    },
  },
  clientid: { min: 0, max: 0, fn: (_a, ctx) => ctx.clientId ?? 'n/a' },
  principal: { min: 0, max: 0, fn: (_a, ctx) => ctx.principal },
  timestamp: { min: 0, max: 0, fn: (_a, ctx) => ctx.timestamp },
  newuuid: { min: 0, max: 0, fn: (_a, ctx) => ctx.newUuid() },
  traceid: { min: 0, max: 0, fn: (_a, ctx) => (ctx.clientId === undefined ? undefined : ctx.newUuid()) },
  accountid: { min: 0, max: 0, fn: (_a, ctx) => ctx.accountId },
  sql_version: { min: 0, max: 0, fn: () => SQL_VERSION_2016 },
  rand: { min: 0, max: 0, fn: () => Math.random() },
  // Collections
  get: { min: 2, max: 2, fn: get },
  concat: { min: 0, max: Number.POSITIVE_INFINITY, fn: concat },
  // Numbers
  abs: { min: 1, max: 1, fn: numeric(Math.abs) },
  round: { min: 1, max: 1, fn: numeric(roundHalfAwayFromZero) },
  floor: { min: 1, max: 1, fn: numeric(Math.floor) },
  ceil: { min: 1, max: 1, fn: numeric(Math.ceil) },
  sign: { min: 1, max: 1, fn: numeric(Math.sign) },
  sqrt: { min: 1, max: 1, fn: numeric(Math.sqrt) },
  exp: { min: 1, max: 1, fn: numeric(Math.exp) },
  ln: { min: 1, max: 1, fn: numeric(Math.log) },
  log: { min: 1, max: 1, fn: numeric(Math.log10) },
  power: {
    min: 2,
    max: 2,
    fn: ([a, b]) => {
      const x = toNumber(a);
      const y = toNumber(b);
      if (x === undefined || y === undefined) return undefined;
      const r = x ** y;
      return Number.isFinite(r) ? r : undefined;
    },
  },
  trunc: {
    min: 2,
    max: 2,
    fn: ([x, digits]) => {
      const n = toNumber(x);
      const d = asInt(digits);
      if (n === undefined || d === undefined) return undefined;
      return truncDigits(n, Math.max(0, Math.min(34, d)));
    },
  },
  mod: { min: 2, max: 2, fn: remainder },
  remainder: { min: 2, max: 2, fn: remainder },
  nanvl: { min: 2, max: 2, fn: ([a, b]) => (toNumber(a) !== undefined ? a : b) },
  // Strings
  lower: { min: 1, max: 1, fn: text((s) => s.toLowerCase()) },
  upper: { min: 1, max: 1, fn: text((s) => s.toUpperCase()) },
  trim: { min: 1, max: 1, fn: text((s) => s.trim()) },
  ltrim: { min: 1, max: 1, fn: text((s) => s.trimStart()) },
  rtrim: { min: 1, max: 1, fn: text((s) => s.trimEnd()) },
  length: { min: 1, max: 1, fn: text((s) => Array.from(s).length) },
  numbytes: { min: 1, max: 1, fn: text((s) => Buffer.byteLength(s, 'utf8')) },
  substring: { min: 2, max: 3, fn: substring },
  indexof: { min: 2, max: 2, fn: text2((s, sub) => s.indexOf(sub)) },
  startswith: { min: 2, max: 2, fn: text2((s, p) => s.startsWith(p)) },
  endswith: { min: 2, max: 2, fn: text2((s, p) => s.endsWith(p)) },
  replace: {
    min: 3,
    max: 3,
    fn: ([s, a, b]) => {
      const [str, from, to] = [asText(s), asText(a), asText(b)];
      return str === undefined || from === undefined || to === undefined
        ? undefined
        : str.split(from).join(to);
    },
  },
  lpad: {
    min: 2,
    max: 2,
    fn: ([s, n]) => {
      const [str, len] = [asText(s), asInt(n)];
      return str === undefined || len === undefined ? undefined : ' '.repeat(clampPad(len)) + str;
    },
  },
  rpad: {
    min: 2,
    max: 2,
    fn: ([s, n]) => {
      const [str, len] = [asText(s), asInt(n)];
      return str === undefined || len === undefined ? undefined : str + ' '.repeat(clampPad(len));
    },
  },
  chr: {
    min: 1,
    max: 1,
    fn: ([n]) => {
      const c = asInt(n);
      return c === undefined || c < 0 || c > 0x10ffff ? undefined : String.fromCodePoint(c);
    },
  },
  regexp_matches: {
    min: 2,
    max: 2,
    fn: ([s, p]) => {
      const [str, re] = [asText(s), regex(p)];
      return str === undefined || !re ? undefined : re.test(str);
    },
  },
  regexp_replace: {
    min: 3,
    max: 3,
    fn: ([s, p, r]) => {
      const [str, re, rep] = [asText(s), regex(p), asText(r)];
      return str === undefined || !re || rep === undefined
        ? undefined
        : str.replace(new RegExp(re.source, 'g'), rep);
    },
  },
  regexp_substr: {
    min: 2,
    max: 2,
    fn: ([s, p]) => {
      const [str, re] = [asText(s), regex(p)];
      return str === undefined || !re ? undefined : (re.exec(str)?.[0] ?? '');
    },
  },
  md5: { min: 1, max: 1, fn: hash('md5') },
  sha1: { min: 1, max: 1, fn: hash('sha1') },
  sha224: { min: 1, max: 1, fn: hash('sha224') },
  sha256: { min: 1, max: 1, fn: hash('sha256') },
  sha384: { min: 1, max: 1, fn: hash('sha384') },
  sha512: { min: 1, max: 1, fn: hash('sha512') },
  // Types
  isundefined: { min: 1, max: 1, fn: ([x]) => x === undefined },
  isnull: { min: 1, max: 1, fn: ([x]) => x === null },
  // get_or_default(expression, defaultValue) is evaluated by the evaluator: it catches failures.
  get_or_default: { min: 2, max: 2, fn: ([x, d]) => (x === undefined || x === null ? d : x) },
  transform: { min: 3, max: 3, fn: transform },
  // Encoding (2016-03-23); decode(*, 'proto', ...) is external: it reads a descriptor from S3.
  encode: { min: 2, max: 2, fn: (args, ctx) => encode(args, ctx, false) },
  decode: { min: 2, max: 6, fn: decode },
  // Trigonometry and bit operations (2015-10-08 and later)
  acos: { min: 1, max: 1, fn: numeric(Math.acos) },
  asin: { min: 1, max: 1, fn: numeric(Math.asin) },
  atan: { min: 1, max: 1, fn: numeric(Math.atan) },
  atan2: {
    min: 2,
    max: 2,
    fn: ([y, x]) => {
      const [a, b] = [toNumber(y), toNumber(x)];
      return a === undefined || b === undefined ? undefined : Math.atan2(a, b);
    },
  },
  cos: { min: 1, max: 1, fn: numeric(Math.cos) },
  cosh: { min: 1, max: 1, fn: numeric(Math.cosh) },
  sin: { min: 1, max: 1, fn: numeric(Math.sin) },
  sinh: { min: 1, max: 1, fn: numeric(Math.sinh) },
  tan: { min: 1, max: 1, fn: numeric(Math.tan) },
  tanh: { min: 1, max: 1, fn: numeric(Math.tanh) },
  bitand: { min: 2, max: 2, fn: bitwise((a, b) => a & b) },
  bitor: { min: 2, max: 2, fn: bitwise((a, b) => a | b) },
  bitxor: { min: 2, max: 2, fn: bitwise((a, b) => a ^ b) },
  bitnot: { min: 1, max: 1, fn: ([x]) => bitwise((a) => ~a)([x, 0]) },
  md2: { min: 1, max: 1, fn: text(md2Hex) },
  // Time (2016-03-23)
  parse_time: { min: 2, max: 3, fn: parseTime },
  time_to_epoch: { min: 2, max: 2, fn: timeToEpoch, prepare: loadJavaTime },
  // MQTT 5 (not spoken by the local broker: always Undefined) and the connection
  get_mqtt_property: { min: 1, max: 1, fn: () => undefined },
  get_user_properties: { min: 0, max: 1, fn: () => undefined },
  sourceip: { min: 0, max: 0, fn: (_a, ctx) => ctx.sourceIp },
  // External functions (they call another service; AWS bills them like rule actions)
  aws_lambda: external(2, 2),
  get_dynamodb: external(4, 6),
  get_thing_shadow: external(2, 3),
  get_secret: external(3, 4),
  get_registry_data: external(3, 3),
  machinelearning_predict: external(3, 3),
};

/** encode(*, ...) needs the raw payload rather than the value of `*`. */
export function callEncodeStar(args: SqlValue[], ctx: FunctionContext): SqlValue {
  return encode(args, ctx, true);
}

export function lookupFunction(name: string): FunctionSpec | undefined {
  // Own members only: `constructor(1)` or `toString()` is an unknown function, not Object's.
  const key = name.toLowerCase();
  return Object.hasOwn(FUNCTIONS, key) ? FUNCTIONS[key] : undefined;
}

/** Cast keywords ("Functions", cast): V2 adds Decimal, Bool and Boolean. */
export const CAST_TYPES: Record<string, CastType> = {
  string: 'String',
  nvarchar: 'String',
  text: 'String',
  ntext: 'String',
  varchar: 'String',
  int: 'Int',
  integer: 'Int',
  double: 'Decimal',
  decimal: 'Decimal',
  bool: 'Boolean',
  boolean: 'Boolean',
};

/**
 * cast(v AS T): the implicit conversions plus numbers <-> Booleans. Decimal to Int is
 * "rounded down" in AWS's words, taken as towards zero (Java's RoundingMode.DOWN).
 */
export function castValue(v: SqlValue, to: CastType): SqlValue {
  const t = typeOf(v);
  if (t === 'Undefined') return undefined;
  switch (to) {
    case 'String':
      return toSqlString(v);
    case 'Boolean':
      if (t === 'Int' || t === 'Decimal') return v !== 0;
      return toBoolean(v);
    case 'Int':
    case 'Decimal': {
      if (t === 'Null') return null;
      if (t === 'Boolean') return v ? 1 : 0;
      const n = toNumber(v);
      if (n === undefined) return undefined;
      return to === 'Int' ? Math.trunc(n) : n;
    }
  }
}
