/**
 * Translates a parsed Timestream SELECT into DuckDB SQL over the local data table, checking
 * types the way Timestream's engine does (Developer Guide "Query language reference":
 * data types, operators, date/time functions, aggregate functions). TIMESTAMP values are
 * carried as BIGINT epoch nanoseconds so `bin`, `ago` and comparisons keep Timestream's
 * nanosecond precision.
 */
import { SINGLE_VALUE_COLUMN, type TableMeta } from '../catalog';
import type { ScalarMeasureType } from '../types';
import type { Expr, SelectStatement } from './ast';
import { AGGREGATES, translateCall } from './functions';
import { parseQuery } from './parser';
import { comparable, NUMERIC, refuse, type Typed } from './typing';

export interface OutputColumn {
  readonly name: string;
  readonly type: ScalarMeasureType | 'UNKNOWN';
}

export interface TranslatedQuery {
  readonly sql: string;
  readonly columns: OutputColumn[];
}

export type TableResolver = (database: string, table: string) => TableMeta;

const NS_PER_DAY = 86_400_000_000_000n;

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

interface Column {
  readonly name: string;
  readonly sql: string;
  readonly type: ScalarMeasureType;
}

/** The columns a query sees: dimensions, measure_name, time, measure_value::<type>, multi-measure attributes. */
export function tableColumns(t: TableMeta): Column[] {
  const dims = [...t.columns.values()].filter((c) => c.kind === 'dimension');
  const measures = [...t.columns.values()].filter((c) => c.kind === 'measure');
  const singleTypes = new Set([...t.measureTypes.values()].filter((x) => x !== 'MULTI'));
  return [
    ...dims.map((c) => ({ name: c.name, sql: c.physical, type: c.type })),
    { name: 'measure_name', sql: 'measure_name', type: 'VARCHAR' },
    { name: 'time', sql: 'time_ns', type: 'TIMESTAMP' },
    ...(['DOUBLE', 'BIGINT', 'VARCHAR', 'BOOLEAN', 'TIMESTAMP'] as const)
      .filter((ty) => singleTypes.has(ty))
      .map((ty) => ({ name: `measure_value::${ty.toLowerCase()}`, sql: SINGLE_VALUE_COLUMN[ty], type: ty })),
    ...measures.map((c) => ({ name: c.name, sql: c.physical, type: c.type })),
  ];
}

/** Columns a query may name even before a record of that kind exists (they read as NULL). */
function implicitColumn(name: string): Column | undefined {
  const m = /^measure_value::(double|bigint|varchar|boolean|timestamp)$/.exec(name);
  if (!m) return undefined;
  const type = m[1]!.toUpperCase() as ScalarMeasureType;
  return { name, sql: SINGLE_VALUE_COLUMN[type], type };
}

class Translator {
  private readonly columns: Map<string, Column>;

  constructor(
    private readonly stmt: SelectStatement,
    private readonly table: TableMeta,
    private readonly nowNs: bigint,
  ) {
    this.columns = new Map(tableColumns(table).map((c) => [c.name, c]));
  }

  private column(e: Extract<Expr, { k: 'col' }>): Typed {
    const { from } = this.stmt;
    if (e.qualifier !== undefined && e.qualifier !== from.alias && e.qualifier !== from.table) {
      refuse(`column '${e.qualifier}.${e.name}' at position ${e.pos} does not name the queried table`);
    }
    let c = this.columns.get(e.name) ?? implicitColumn(e.name);
    if (!c) {
      const lower = e.name.toLowerCase();
      const matches = [...this.columns.values()].filter((x) => x.name.toLowerCase() === lower);
      if (matches.length === 1) c = matches[0];
    }
    if (!c) {
      return refuse(
        `Column '${e.name}' does not exist in "${this.table.database}"."${this.table.name}" (at position ${e.pos}); Timestream makes a table's columns from the records written to it`,
      );
    }
    return { sql: c.sql, type: c.type, aggregate: false };
  }

  expr(e: Expr, inAggregate = false): Typed {
    switch (e.k) {
      case 'col':
        return this.column(e);
      case 'num':
        if (/^\d+$/.test(e.text)) {
          if (BigInt(e.text) > 2n ** 63n - 1n)
            refuse(`number ${e.text} at position ${e.pos} is out of BIGINT range`);
          return { sql: `CAST(${e.text} AS BIGINT)`, type: 'BIGINT', aggregate: false };
        }
        return { sql: `CAST(${e.text} AS DOUBLE)`, type: 'DOUBLE', aggregate: false };
      case 'str':
        return { sql: lit(e.value), type: 'VARCHAR', aggregate: false };
      case 'bool':
        return { sql: e.value ? 'TRUE' : 'FALSE', type: 'BOOLEAN', aggregate: false };
      case 'null':
        return { sql: 'NULL', type: 'UNKNOWN', aggregate: false };
      case 'dur':
        return { sql: `CAST(${e.ns} AS BIGINT)`, type: 'INTERVAL', aggregate: false };
      case 'neg': {
        const x = this.expr(e.expr, inAggregate);
        if (!NUMERIC.has(x.type) && x.type !== 'INTERVAL')
          refuse(`cannot negate ${x.type} at position ${e.pos}`);
        return { sql: `(-${x.sql})`, type: x.type, aggregate: x.aggregate };
      }
      case 'not': {
        const x = this.bool(e.expr, inAggregate, 'NOT');
        return { sql: `(NOT ${x.sql})`, type: 'BOOLEAN', aggregate: x.aggregate };
      }
      case 'isnull': {
        const x = this.expr(e.expr, inAggregate);
        return { sql: `(${x.sql} IS ${e.not ? 'NOT ' : ''}NULL)`, type: 'BOOLEAN', aggregate: x.aggregate };
      }
      case 'like': {
        const x = this.expr(e.expr, inAggregate);
        const p = this.expr(e.pattern, inAggregate);
        if (x.type !== 'VARCHAR' || p.type !== 'VARCHAR') {
          refuse(`LIKE at position ${e.pos} needs VARCHAR operands, got ${x.type} and ${p.type}`);
        }
        return {
          sql: `(${x.sql} ${e.not ? 'NOT ' : ''}LIKE ${p.sql} ESCAPE '\\')`,
          type: 'BOOLEAN',
          aggregate: x.aggregate || p.aggregate,
        };
      }
      case 'between': {
        const x = this.expr(e.expr, inAggregate);
        const lo = this.expr(e.low, inAggregate);
        const hi = this.expr(e.high, inAggregate);
        comparable(x.type, lo.type, e.pos, 'BETWEEN');
        comparable(x.type, hi.type, e.pos, 'BETWEEN');
        return {
          sql: `(${x.sql} ${e.not ? 'NOT ' : ''}BETWEEN ${lo.sql} AND ${hi.sql})`,
          type: 'BOOLEAN',
          aggregate: x.aggregate || lo.aggregate || hi.aggregate,
        };
      }
      case 'in': {
        const x = this.expr(e.expr, inAggregate);
        const items = e.list.map((i) => this.expr(i, inAggregate));
        for (const i of items) comparable(x.type, i.type, e.pos, 'IN');
        return {
          sql: `(${x.sql} ${e.not ? 'NOT ' : ''}IN (${items.map((i) => i.sql).join(', ')}))`,
          type: 'BOOLEAN',
          aggregate: x.aggregate || items.some((i) => i.aggregate),
        };
      }
      case 'binary':
        return this.binary(e, inAggregate);
      case 'call':
        return translateCall(e, inAggregate, {
          nowNs: this.nowNs,
          translate: (x, agg) => this.expr(x, agg),
        });
    }
  }

  private bool(e: Expr, inAggregate: boolean, where: string): Typed {
    const x = this.expr(e, inAggregate);
    if (x.type !== 'BOOLEAN' && x.type !== 'UNKNOWN')
      refuse(`${where} needs a BOOLEAN operand, got ${x.type}`);
    return x;
  }

  private binary(e: Extract<Expr, { k: 'binary' }>, inAggregate: boolean): Typed {
    if (e.op === 'AND' || e.op === 'OR') {
      const l = this.bool(e.left, inAggregate, e.op);
      const r = this.bool(e.right, inAggregate, e.op);
      return { sql: `(${l.sql} ${e.op} ${r.sql})`, type: 'BOOLEAN', aggregate: l.aggregate || r.aggregate };
    }
    const l = this.expr(e.left, inAggregate);
    const r = this.expr(e.right, inAggregate);
    const aggregate = l.aggregate || r.aggregate;
    if (['=', '<>', '<', '<=', '>', '>='].includes(e.op)) {
      comparable(l.type, r.type, e.pos, e.op);
      return { sql: `(${l.sql} ${e.op} ${r.sql})`, type: 'BOOLEAN', aggregate };
    }
    const pair = `${l.type} ${e.op} ${r.type}`;
    if (e.op === '+' || e.op === '-') {
      if (l.type === 'TIMESTAMP' && r.type === 'INTERVAL') {
        return { sql: `(${l.sql} ${e.op} ${r.sql})`, type: 'TIMESTAMP', aggregate };
      }
      if (e.op === '+' && l.type === 'INTERVAL' && r.type === 'TIMESTAMP') {
        return { sql: `(${l.sql} + ${r.sql})`, type: 'TIMESTAMP', aggregate };
      }
      if (l.type === 'INTERVAL' && r.type === 'INTERVAL') {
        return { sql: `(${l.sql} ${e.op} ${r.sql})`, type: 'INTERVAL', aggregate };
      }
    }
    if (NUMERIC.has(l.type) && NUMERIC.has(r.type)) {
      const bothInt = l.type === 'BIGINT' && r.type === 'BIGINT';
      // Integer division truncates, as in Timestream (Presto semantics).
      const op = e.op === '/' && bothInt ? '//' : e.op;
      return { sql: `(${l.sql} ${op} ${r.sql})`, type: bothInt ? 'BIGINT' : 'DOUBLE', aggregate };
    }
    return refuse(`operator '${e.op}' at position ${e.pos} cannot be applied to ${pair}`);
  }

  translate(): TranslatedQuery {
    const s = this.stmt;
    const selectParts: string[] = [];
    const columns: OutputColumn[] = [];
    const selected: Typed[] = [];
    for (const item of s.items) {
      if (item.expr === 'star') {
        for (const c of this.columns.values()) {
          selected.push({ sql: c.sql, type: c.type, aggregate: false });
          columns.push({ name: c.name, type: c.type });
        }
        continue;
      }
      const x = this.expr(item.expr);
      if (x.type === 'INTERVAL')
        refuse(`INTERVAL results (select item ${columns.length + 1}) are not supported`);
      selected.push(x);
      const name =
        item.alias ?? (item.expr.k === 'col' ? this.canonicalName(item.expr.name) : `_col${columns.length}`);
      columns.push({ name, type: x.type as ScalarMeasureType | 'UNKNOWN' });
    }
    selected.forEach((x, i) => {
      selectParts.push(`${x.sql} AS c${i}`);
    });

    const where: string[] = [];
    // Rows past the magnetic store retention have expired (Developer Guide "Storage").
    const expiry = this.nowNs - BigInt(this.table.retention.magneticStoreRetentionDays) * NS_PER_DAY;
    where.push(`time_ns >= ${expiry}`);
    if (s.where) {
      const w = this.expr(s.where);
      if (w.aggregate) refuse('aggregates are not allowed in WHERE');
      if (w.type !== 'BOOLEAN' && w.type !== 'UNKNOWN')
        refuse(`WHERE needs a BOOLEAN condition, got ${w.type}`);
      where.push(w.sql);
    }

    const group: string[] = s.groupBy.map((g) => {
      if (g.k === 'num' && /^\d+$/.test(g.text)) {
        const n = Number(g.text);
        const target = selected[n - 1];
        if (!target) refuse(`GROUP BY position ${n} is not in the select list`);
        if (target!.aggregate) refuse(`GROUP BY position ${n} refers to an aggregate`);
        return target!.sql;
      }
      const x = this.expr(g);
      if (x.aggregate) refuse('aggregates are not allowed in GROUP BY');
      return x.sql;
    });

    const having = s.having ? this.expr(s.having) : undefined;
    if (having && having.type !== 'BOOLEAN') refuse(`HAVING needs a BOOLEAN condition, got ${having.type}`);

    const grouped = group.length > 0 || selected.some((x) => x.aggregate) || having !== undefined;
    if (grouped) {
      s.items.forEach((item, i) => {
        if (item.expr === 'star') refuse('SELECT * cannot be combined with GROUP BY or aggregates');
        else if (!this.groupedOk(item.expr, group)) {
          refuse(`select item ${i + 1} ('${columns[i]?.name}') must be an aggregate or appear in GROUP BY`);
        }
      });
    }

    const order = s.orderBy.map((o) => {
      let sql: string | undefined;
      if (o.expr.k === 'num' && /^\d+$/.test(o.expr.text)) {
        const n = Number(o.expr.text);
        if (n < 1 || n > selected.length) refuse(`ORDER BY position ${n} is not in the select list`);
        sql = `c${n - 1}`;
      } else if (o.expr.k === 'col' && o.expr.qualifier === undefined) {
        const i = columns.findIndex((c) => c.name === (o.expr as { name: string }).name);
        if (i >= 0) sql = `c${i}`;
      }
      if (sql === undefined) {
        const x = this.expr(o.expr);
        if (grouped && !this.groupedOk(o.expr, group)) {
          refuse(`ORDER BY expression at position ${o.expr.pos} must be an aggregate or appear in GROUP BY`);
        }
        const i = selected.findIndex((sel) => sel.sql === x.sql);
        sql = i >= 0 ? `c${i}` : x.sql;
      }
      const nulls = o.nulls ?? 'last';
      return `${sql} ${o.desc ? 'DESC' : 'ASC'} NULLS ${nulls.toUpperCase()}`;
    });

    const sql = [
      `SELECT ${s.distinct ? 'DISTINCT ' : ''}${selectParts.join(', ')}`,
      `FROM ${this.table.physical}`,
      `WHERE ${where.join(' AND ')}`,
      group.length ? `GROUP BY ${group.join(', ')}` : '',
      having ? `HAVING ${having.sql}` : '',
      order.length ? `ORDER BY ${order.join(', ')}` : '',
      s.limit !== undefined ? `LIMIT ${s.limit}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    return { sql, columns };
  }

  private canonicalName(name: string): string {
    if (this.columns.has(name)) return name;
    const lower = name.toLowerCase();
    return [...this.columns.keys()].find((k) => k.toLowerCase() === lower) ?? name;
  }

  /** True if `e` can be evaluated per group: an aggregate, a literal, a GROUP BY expression, or built from those. */
  private groupedOk(e: Expr, group: readonly string[]): boolean {
    if (e.k === 'call' && AGGREGATES.has(e.name)) return true;
    if (['num', 'str', 'bool', 'null', 'dur'].includes(e.k)) return true;
    if (e.k === 'call' && e.args.length === 0) return true;
    if (group.includes(this.expr(e).sql)) return true;
    switch (e.k) {
      case 'col':
        return false;
      case 'call':
        return e.args.every((a) => this.groupedOk(a, group));
      case 'binary':
        return this.groupedOk(e.left, group) && this.groupedOk(e.right, group);
      case 'not':
      case 'neg':
      case 'isnull':
        return this.groupedOk(e.expr, group);
      case 'between':
        return [e.expr, e.low, e.high].every((a) => this.groupedOk(a, group));
      case 'in':
        return [e.expr, ...e.list].every((a) => this.groupedOk(a, group));
      case 'like':
        return this.groupedOk(e.expr, group) && this.groupedOk(e.pattern, group);
      default:
        return false;
    }
  }
}

/**
 * Parses and translates `sql`. `resolve` finds the table named in FROM (and throws if it does
 * not exist); `nowMs` is the query's `now()`.
 */
export function translateQuery(sql: string, resolve: TableResolver, nowMs: number): TranslatedQuery {
  const stmt = parseQuery(sql);
  const table = resolve(stmt.from.database, stmt.from.table);
  return new Translator(stmt, table, BigInt(nowMs) * 1_000_000n).translate();
}
