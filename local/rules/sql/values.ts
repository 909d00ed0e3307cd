/**
 * IoT SQL values and AWS's implicit conversions (AWS IoT developer guide, "Data types":
 * conversion table; "Operators"). Values are plain JSON values plus `undefined` for SQL
 * Undefined and a Buffer for a non-JSON payload seen through `*`.
 *
 * LIMITATIONS versus AWS: Int and Decimal are JavaScript numbers (double precision, not 34
 * digits). A number is an Int when it is whole: this matches 2016-03-23, which handles
 * whole-number decimals such as 10.0 as Int 10.
 */

export type SqlValue = unknown;

export type SqlType =
  | 'Int'
  | 'Decimal'
  | 'Boolean'
  | 'String'
  | 'Array'
  | 'Object'
  | 'Null'
  | 'Undefined'
  | 'Binary';

export function typeOf(v: SqlValue): SqlType {
  if (v === undefined) return 'Undefined';
  if (v === null) return 'Null';
  if (typeof v === 'boolean') return 'Boolean';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'Undefined';
    return Number.isInteger(v) ? 'Int' : 'Decimal';
  }
  if (Buffer.isBuffer(v)) return 'Binary';
  if (Array.isArray(v)) return 'Array';
  if (typeof v === 'object') return 'Object';
  return 'Undefined';
}

export const isNumber = (v: SqlValue): v is number => typeof v === 'number' && Number.isFinite(v);

const DECIMAL_STRING = /^-?\d+(\.\d+)?([eE]-?\d+)?$/;

/** Implicit conversion to Decimal ("Data types", conversion table); Null stays Null. */
export function toDecimal(v: SqlValue): number | null | undefined {
  if (isNumber(v)) return v;
  if (v === null) return null;
  if (typeof v === 'string' && DECIMAL_STRING.test(v.trim())) {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Like toDecimal, but only a number (Null counts as not convertible). */
export function toNumber(v: SqlValue): number | undefined {
  const n = toDecimal(v);
  return typeof n === 'number' ? n : undefined;
}

/** Implicit conversion to Boolean: Booleans and the strings "true"/"false" in any case. */
export function toBoolean(v: SqlValue): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return undefined;
}

/** Implicit conversion to String: numbers in standard notation, JSON for arrays and objects. */
export function toSqlString(v: SqlValue): string | undefined {
  switch (typeOf(v)) {
    case 'String':
      return v as string;
    case 'Int':
    case 'Decimal':
      return numberText(v as number);
    case 'Boolean':
      return v ? 'true' : 'false';
    case 'Array':
    case 'Object':
      return serialize(v);
    case 'Binary':
      return (v as Buffer).toString('utf8');
    default:
      return undefined;
  }
}

function numberText(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  return String(n);
}

/** `=` (AWS IoT "Operators"): different types are false, Undefined on either side is Undefined. */
export function sqlEquals(a: SqlValue, b: SqlValue): boolean | undefined {
  const ta = typeOf(a);
  const tb = typeOf(b);
  if (ta === 'Undefined' || tb === 'Undefined') return undefined;
  const numeric = (t: SqlType) => t === 'Int' || t === 'Decimal';
  if (numeric(ta) && numeric(tb)) return a === b;
  if (ta !== tb) return false;
  return deepEqual(a, b);
}

function deepEqual(a: SqlValue, b: SqlValue): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => sqlEquals(x, b[i]) === true);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    const ob = b as Record<string, unknown>;
    const oa = a as Record<string, unknown>;
    return ka.every((k) => Object.hasOwn(ob, k) && sqlEquals(oa[k], ob[k]) === true);
  }
  return false;
}

/**
 * JSON serialization with Undefined omitted ("SELECT clause": a key whose value is Undefined
 * is left out; an Undefined array element becomes null, as JSON.stringify does).
 */
export function serialize(v: SqlValue): string {
  if (v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return JSON.stringify(v);
}

/** Removes Undefined members recursively so the value is plain JSON. */
export function stripUndefined(v: SqlValue): SqlValue {
  if (v === undefined || v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : stripUndefined(x)));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = stripUndefined(x);
  return out;
}
