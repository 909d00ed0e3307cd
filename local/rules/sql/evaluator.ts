/**
 * Evaluates a parsed IoT SQL statement against one message (AWS IoT developer guide: "SELECT
 * clause", "WHERE clause", "Operators", "Case statements", "Nested object queries",
 * "Variables"). WHERE runs first and the SELECT output is built only if it is Boolean true.
 *
 * The evaluation is a generator: a call to an external function (one that calls another
 * service, such as aws_lambda or get_thing_shadow) yields an ExternalCall and resumes with
 * its result, or with its failure thrown at that point. So one evaluator serves both drivers:
 * `runSync` for rules without external functions (the common case, no promise per message)
 * and `runAsync` for those with them; CASE, AND/OR operands and WHERE keep their order, and an
 * external call in a branch that is not taken is never made.
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

/** A call to an external function that the evaluation waits for. */
export interface ExternalCall {
  readonly name: string;
  readonly args: readonly SqlValue[];
}

/** An evaluation in progress: yields external calls, returns the value. */
export type Evaluating<T = SqlValue> = Generator<ExternalCall, T, SqlValue>;

/** Runs an evaluation that makes no external call. */
export function runSync<T>(evaluating: Evaluating<T>): T {
  const step = evaluating.next();
  if (!step.done) {
    throw new SqlEvaluationError(
      `${step.value.name}() calls another service, so this statement must be evaluated asynchronously`,
    );
  }
  return step.value;
}

/** Runs an evaluation, making each external call it asks for with `call`. */
export async function runAsync<T>(
  evaluating: Evaluating<T>,
  call: (c: ExternalCall) => Promise<SqlValue>,
): Promise<T> {
  let step = evaluating.next();
  while (!step.done) {
    let result: { value: SqlValue } | { error: unknown };
    try {
      result = { value: await call(step.value) };
    } catch (error) {
      result = { error };
    }
    step = 'error' in result ? evaluating.throw(result.error) : evaluating.next(result.value);
  }
  return step.value;
}

export function* evaluateSets(query: Query, scope: Scope): Evaluating<void> {
  for (const s of query.sets) scope.variables.set(s.name, yield* evaluate(s.expr, scope));
}

/** WHERE result: only Boolean true matches. */
export function* whereMatches(query: Query, scope: Scope): Evaluating<boolean> {
  return query.where === undefined || (yield* evaluate(query.where, scope)) === true;
}

/** Builds the SELECT output. Undefined values are kept here and omitted at serialization. */
export function* project(query: Query, scope: Scope): Evaluating {
  const p = query.projection;
  if (p.k === 'value') return yield* evaluate(p.expr, scope);
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
      out[item.key] = yield* evaluate(item.expr, scope);
    }
  }
  return out;
}

export function* evaluate(e: Expr, scope: Scope): Evaluating {
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
      return member(yield* evaluate(e.object, scope), e.name);
    case 'call':
      return yield* call(e, scope);
    case 'cast':
      return castValue(yield* evaluate(e.expr, scope), e.to);
    case 'negate': {
      const n = toNumber(yield* evaluate(e.expr, scope));
      return n === undefined ? undefined : -n;
    }
    case 'not': {
      const b = toBoolean(yield* evaluate(e.expr, scope));
      return b === undefined ? undefined : !b;
    }
    case 'binary': {
      const left = yield* evaluate(e.left, scope);
      return binary(e.op, left, yield* evaluate(e.right, scope));
    }
    case 'case': {
      const subject = yield* evaluate(e.subject, scope);
      if (subject === undefined) return undefined;
      for (const w of e.whens) {
        if (sqlEquals(subject, yield* evaluate(w.when, scope)) === true)
          return yield* evaluate(w.result, scope);
      }
      return e.otherwise ? yield* evaluate(e.otherwise, scope) : undefined;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const entry of e.entries) out[entry.key] = yield* evaluate(entry.value, scope);
      return out;
    }
    case 'array': {
      const items: SqlValue[] = [];
      for (const i of e.items) items.push(yield* evaluate(i, scope));
      return items;
    }
    case 'subquery':
      return yield* subquery(e.query, scope);
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

function* call(e: Extract<Expr, { k: 'call' }>, scope: Scope): Evaluating {
  if (e.name === 'get_or_default') return yield* getOrDefault(e.args, scope);
  const spec = lookupFunction(e.name);
  if (!spec) throw new SqlEvaluationError(`unknown function ${e.name}()`);
  const args: SqlValue[] = [];
  for (const a of e.args) args.push(yield* evaluate(a, scope));
  if (e.external) return yield { name: e.name, args };
  if (e.name === 'encode' && e.args[0]?.k === 'star') return callEncodeStar(args, scope.fn);
  return spec.fn(args, scope.fn);
}

/**
 * get_or_default(expression, defaultValue): the default when the expression is Undefined or
 * Null, or fails (an external function that failed, for example); AWS IoT Developer Guide,
 * "Functions".
 */
function* getOrDefault(args: readonly Expr[], scope: Scope): Evaluating {
  let value: SqlValue;
  try {
    value = yield* evaluate(args[0]!, scope);
  } catch {
    value = undefined;
  }
  if (value !== undefined && value !== null) return value;
  return args[1] ? yield* evaluate(args[1], scope) : undefined;
}

/**
 * Nested object queries (2016-03-23): over an array, filter and project each element into an
 * array; over an object, the query applies to that one object (AWS's transform() examples
 * select `(select a, b from data2)` from an object).
 */
function* subquery(query: Query, scope: Scope): Evaluating {
  const from = query.from;
  if (from?.k !== 'expr') return undefined;
  const source = yield* evaluate(from.expr, scope);
  if (typeOf(source) === 'Object') {
    const inner: Scope = { fn: scope.fn, document: source, variables: scope.variables };
    return (yield* whereMatches(query, inner)) ? yield* project(query, inner) : undefined;
  }
  if (!Array.isArray(source)) return undefined;
  const out: unknown[] = [];
  for (const element of source) {
    const inner: Scope = { fn: scope.fn, document: element, variables: scope.variables };
    if (!(yield* whereMatches(query, inner))) continue;
    const value = yield* project(query, inner);
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
