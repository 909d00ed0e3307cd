/**
 * Evaluates a parsed IoT SQL statement against one message (AWS IoT developer guide: "SELECT
 * clause", "WHERE clause", "Operators", "Case statements", "Nested object queries",
 * "Variables"). WHERE runs first and the SELECT output is built only if it is Boolean true.
 *
 * LIMITATIONS versus AWS: `/` on two Ints truncates (the operator table says Int; one doc
 * example disagrees). AND/OR return Undefined unless both sides are Booleans (or "true" /
 * "false"), as the operator table says, with no short circuit. A non-JSON payload combined
 * with added SELECT items is refused as an evaluation error (AWS's output for it is not
 * documented).
 */
import type { BinaryOp, Expr, Query } from './ast';
import { callEncodeStar, castValue, type FunctionContext, lookupFunction } from './functions';
import { isNumber, type SqlValue, sqlEquals, toBoolean, toNumber, toSqlString, typeOf } from './values';

/** A non-JSON payload as seen through `*`. */
export class RawPayload {
  constructor(readonly bytes: Buffer) {}
}

export interface Scope {
  readonly fn: FunctionContext;
  /** The parsed payload (JSON), or a RawPayload when the payload is not JSON. */
  readonly document: SqlValue;
  readonly variables: Map<string, SqlValue>;
}

/** An evaluation the engine cannot complete: the rule does not match, and a log line says why. */
export class SqlEvaluationError extends Error {
  override readonly name = 'SqlEvaluationError';
}

export function evaluateSets(query: Query, scope: Scope): void {
  for (const s of query.sets) scope.variables.set(s.name, evaluate(s.expr, scope));
}

/** WHERE result: only Boolean true matches. */
export function whereMatches(query: Query, scope: Scope): boolean {
  return query.where === undefined || evaluate(query.where, scope) === true;
}

/** Builds the SELECT output. Undefined values are kept here and omitted at serialization. */
export function project(query: Query, scope: Scope): SqlValue {
  const p = query.projection;
  if (p.k === 'value') return evaluate(p.expr, scope);
  const raw = scope.document instanceof RawPayload ? scope.document : undefined;
  if (raw) {
    if (p.items.length === 1 && p.items[0]?.k === 'star') return raw.bytes;
    if (p.items.some((i) => i.k === 'star')) {
      throw new SqlEvaluationError(
        'the payload is not JSON, so SELECT * cannot be combined with other items (not emulated)',
      );
    }
  }
  const out: Record<string, unknown> = {};
  for (const item of p.items) {
    if (item.k === 'star') {
      const doc = scope.document;
      if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) Object.assign(out, doc);
      else if (p.items.length === 1) return doc;
      else throw new SqlEvaluationError('SELECT * with other items needs a JSON object payload');
    } else {
      out[item.key] = evaluate(item.expr, scope);
    }
  }
  return out;
}

export function evaluate(e: Expr, scope: Scope): SqlValue {
  switch (e.k) {
    case 'literal':
      return e.value;
    case 'attribute':
      return member(scope.document, e.name);
    case 'star':
      return scope.document instanceof RawPayload ? scope.document.bytes : scope.document;
    case 'variable':
      return scope.variables.get(e.name);
    case 'member':
      return member(evaluate(e.object, scope), e.name);
    case 'call':
      return call(e, scope);
    case 'cast':
      return castValue(evaluate(e.expr, scope), e.to);
    case 'negate': {
      const n = toNumber(evaluate(e.expr, scope));
      return n === undefined ? undefined : -n;
    }
    case 'not': {
      const b = toBoolean(evaluate(e.expr, scope));
      return b === undefined ? undefined : !b;
    }
    case 'binary':
      return binary(e.op, evaluate(e.left, scope), evaluate(e.right, scope));
    case 'case': {
      const subject = evaluate(e.subject, scope);
      if (subject === undefined) return undefined;
      for (const w of e.whens) {
        if (sqlEquals(subject, evaluate(w.when, scope)) === true) return evaluate(w.result, scope);
      }
      return e.otherwise ? evaluate(e.otherwise, scope) : undefined;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const entry of e.entries) out[entry.key] = evaluate(entry.value, scope);
      return out;
    }
    case 'array':
      return e.items.map((i) => evaluate(i, scope));
    case 'subquery':
      return subquery(e.query, scope);
  }
}

function member(v: SqlValue, name: string): SqlValue {
  if (
    v === null ||
    typeof v !== 'object' ||
    Array.isArray(v) ||
    v instanceof RawPayload ||
    Buffer.isBuffer(v)
  ) {
    return undefined;
  }
  const o = v as Record<string, unknown>;
  return Object.hasOwn(o, name) ? o[name] : undefined;
}

function call(e: Extract<Expr, { k: 'call' }>, scope: Scope): SqlValue {
  const spec = lookupFunction(e.name);
  if (!spec) throw new SqlEvaluationError(`unknown function ${e.name}()`);
  const args = e.args.map((a) => evaluate(a, scope));
  if (e.name === 'encode' && e.args[0]?.k === 'star') return callEncodeStar(args, scope.fn);
  return spec.fn(args, scope.fn);
}

/** Nested object queries (2016-03-23): iterate over the FROM array, filter, project. */
function subquery(query: Query, scope: Scope): SqlValue {
  const from = query.from;
  if (from?.k !== 'expr') return undefined;
  const source = evaluate(from.expr, scope);
  if (!Array.isArray(source)) return undefined;
  const out: unknown[] = [];
  for (const element of source) {
    const inner: Scope = { fn: scope.fn, document: element, variables: scope.variables };
    if (!whereMatches(query, inner)) continue;
    const value = project(query, inner);
    if (value !== undefined) out.push(value);
  }
  return out;
}

const numericPair = (a: SqlValue, b: SqlValue): [number, number] | undefined => {
  const x = toNumber(a);
  const y = toNumber(b);
  return x === undefined || y === undefined ? undefined : [x, y];
};

export function binary(op: BinaryOp, a: SqlValue, b: SqlValue): SqlValue {
  switch (op) {
    case 'AND':
    case 'OR': {
      const x = toBoolean(a);
      const y = toBoolean(b);
      if (x === undefined || y === undefined) return undefined;
      return op === 'AND' ? x && y : x || y;
    }
    case '=':
      return sqlEquals(a, b);
    case '<>': {
      const eq = sqlEquals(a, b);
      return eq === undefined ? undefined : !eq;
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const pair = numericPair(a, b);
      if (!pair) return undefined;
      const [x, y] = pair;
      return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
    }
    case '+': {
      if (typeof a === 'string' || typeof b === 'string') {
        const x = toSqlString(a);
        const y = toSqlString(b);
        return x === undefined || y === undefined ? undefined : x + y;
      }
      if (!isNumber(a) || !isNumber(b)) return undefined;
      return finite(a + b);
    }
    case '-':
    case '*':
    case '/':
    case '%': {
      const pair = numericPair(a, b);
      if (!pair) return undefined;
      const [x, y] = pair;
      const bothInt = typeOf(a) === 'Int' && typeOf(b) === 'Int';
      if (op === '-') return finite(x - y);
      if (op === '*') return finite(x * y);
      if (y === 0) return undefined;
      if (op === '%') return finite(x % y);
      return finite(bothInt ? Math.trunc(x / y) : x / y);
    }
  }
}

const finite = (n: number): number | undefined => (Number.isFinite(n) ? n : undefined);
