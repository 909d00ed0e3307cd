/**
 * Function calls of the query subset (Timestream Developer Guide, "Query language reference":
 * "Date / time functions" now, ago, bin, from_milliseconds, from_nanoseconds, to_milliseconds,
 * to_nanoseconds, from_iso8601_timestamp; "Mathematical functions" abs, round; "Aggregate
 * functions" avg, min, max, count, sum), translated to DuckDB SQL with their argument types
 * checked. Any other function is refused, naming it.
 */
import type { Expr } from './ast';
import { NUMERIC, refuse, type Typed } from './typing';

export const AGGREGATES = new Set(['avg', 'min', 'max', 'count', 'sum']);

/** What a call's translation needs from the query around it. */
export interface CallContext {
  /** The query's now(), in epoch nanoseconds. */
  readonly nowNs: bigint;
  translate(e: Expr, inAggregate: boolean): Typed;
}

export function translateCall(
  e: Extract<Expr, { k: 'call' }>,
  inAggregate: boolean,
  ctx: CallContext,
): Typed {
  const args = () => e.args.map((a) => ctx.translate(a, inAggregate || AGGREGATES.has(e.name)));
  const arity = (n: number) => {
    if (e.args.length !== n || e.star) refuse(`${e.name}() at position ${e.pos} takes ${n} argument(s)`);
  };
  if (e.distinct && e.name !== 'count')
    refuse(`DISTINCT inside ${e.name}() at position ${e.pos} is not supported`);
  if (AGGREGATES.has(e.name)) {
    if (inAggregate) refuse(`aggregate ${e.name}() at position ${e.pos} is nested inside another aggregate`);
    if (e.name === 'count' && e.star) return { sql: 'count(*)', type: 'BIGINT', aggregate: true };
    arity(1);
    const [x] = args() as [Typed];
    const d = e.distinct ? 'DISTINCT ' : '';
    switch (e.name) {
      case 'count':
        return { sql: `count(${d}${x.sql})`, type: 'BIGINT', aggregate: true };
      case 'avg':
        if (!NUMERIC.has(x.type)) refuse(`avg() at position ${e.pos} needs a number, got ${x.type}`);
        return { sql: `avg(${x.sql})`, type: 'DOUBLE', aggregate: true };
      case 'sum':
        if (!NUMERIC.has(x.type)) refuse(`sum() at position ${e.pos} needs a number, got ${x.type}`);
        return x.type === 'BIGINT'
          ? { sql: `CAST(sum(${x.sql}) AS BIGINT)`, type: 'BIGINT', aggregate: true }
          : { sql: `sum(${x.sql})`, type: 'DOUBLE', aggregate: true };
      default:
        if (x.type === 'INTERVAL' || x.type === 'UNKNOWN') {
          refuse(`${e.name}() at position ${e.pos} cannot take ${x.type}`);
        }
        return { sql: `${e.name}(${x.sql})`, type: x.type, aggregate: true };
    }
  }
  switch (e.name) {
    case 'now':
      arity(0);
      return { sql: `CAST(${ctx.nowNs} AS BIGINT)`, type: 'TIMESTAMP', aggregate: false };
    case 'ago': {
      arity(1);
      const [d] = args() as [Typed];
      if (d.type !== 'INTERVAL')
        refuse(`ago() at position ${e.pos} needs a duration such as 15m, got ${d.type}`);
      return {
        sql: `(CAST(${ctx.nowNs} AS BIGINT) - ${d.sql})`,
        type: 'TIMESTAMP',
        aggregate: d.aggregate,
      };
    }
    case 'bin': {
      arity(2);
      const [t, d] = args() as [Typed, Typed];
      if (t.type !== 'TIMESTAMP') refuse(`bin() at position ${e.pos} needs a TIMESTAMP first, got ${t.type}`);
      if (d.type !== 'INTERVAL' || e.args[1]!.k !== 'dur') {
        refuse(`bin() at position ${e.pos} needs a duration literal such as 5m as its second argument`);
      }
      const step = (e.args[1] as Extract<Expr, { k: 'dur' }>).ns;
      if (step <= 0n) refuse(`bin() at position ${e.pos} needs a positive duration`);
      // Floor to the bin start, also for times before 1970.
      return {
        sql: `(${t.sql} - (((${t.sql} % ${step}) + ${step}) % ${step}))`,
        type: 'TIMESTAMP',
        aggregate: t.aggregate,
      };
    }
    case 'from_milliseconds':
    case 'from_nanoseconds': {
      arity(1);
      const [x] = args() as [Typed];
      if (x.type !== 'BIGINT') refuse(`${e.name}() at position ${e.pos} needs a BIGINT, got ${x.type}`);
      const factor = e.name === 'from_milliseconds' ? ' * 1000000' : '';
      return { sql: `(${x.sql}${factor})`, type: 'TIMESTAMP', aggregate: x.aggregate };
    }
    case 'to_milliseconds':
    case 'to_nanoseconds': {
      arity(1);
      const [x] = args() as [Typed];
      if (x.type !== 'TIMESTAMP') refuse(`${e.name}() at position ${e.pos} needs a TIMESTAMP, got ${x.type}`);
      const div = e.name === 'to_milliseconds' ? ' // 1000000' : '';
      return { sql: `(${x.sql}${div})`, type: 'BIGINT', aggregate: x.aggregate };
    }
    case 'from_iso8601_timestamp': {
      arity(1);
      const a = e.args[0]!;
      if (a.k !== 'str') refuse(`from_iso8601_timestamp() at position ${e.pos} needs a string literal`);
      const ms = Date.parse((a as Extract<Expr, { k: 'str' }>).value);
      if (Number.isNaN(ms))
        refuse(`from_iso8601_timestamp() at position ${e.pos}: not an ISO 8601 timestamp`);
      return { sql: `CAST(${BigInt(ms) * 1_000_000n} AS BIGINT)`, type: 'TIMESTAMP', aggregate: false };
    }
    case 'abs': {
      arity(1);
      const [x] = args() as [Typed];
      if (!NUMERIC.has(x.type)) refuse(`abs() at position ${e.pos} needs a number, got ${x.type}`);
      return { sql: `abs(${x.sql})`, type: x.type, aggregate: x.aggregate };
    }
    case 'round': {
      if (e.args.length < 1 || e.args.length > 2)
        refuse(`round() at position ${e.pos} takes 1 or 2 arguments`);
      const [x, n] = args() as [Typed, Typed | undefined];
      if (!NUMERIC.has(x.type)) refuse(`round() at position ${e.pos} needs a number, got ${x.type}`);
      if (n && (n.type !== 'BIGINT' || e.args[1]!.k !== 'num')) {
        refuse(`round() at position ${e.pos} needs a whole-number literal for its digits`);
      }
      if (x.type === 'BIGINT') return x;
      return {
        sql: `round(${x.sql}${n ? `, ${(e.args[1] as { text: string }).text}` : ''})`,
        type: 'DOUBLE',
        aggregate: x.aggregate,
      };
    }
    default:
      return refuse(
        `function ${e.name}() at position ${e.pos} is not supported by the local Timestream query subset`,
      );
  }
}
