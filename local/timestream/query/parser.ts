/**
 * Lexer and parser for the subset of Timestream's query language (Developer Guide "Query
 * language reference": SELECT, identifiers, duration literals, time functions) that the local
 * Timestream answers. Anything outside it fails with a QueryRefusal naming the construct, so a
 * caller never receives results computed by different rules.
 */

export class QueryRefusal extends Error {
  override readonly name = 'QueryRefusal';
}

export type Token =
  | { t: 'ident'; v: string; quoted: boolean; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 'num'; v: string; pos: number }
  | { t: 'dur'; v: string; ns: bigint; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'eof'; v: ''; pos: number };

const DURATION_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};

const MEASURE_VALUE_COLUMN = /^measure_value::(double|bigint|varchar|boolean|timestamp)/i;

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new QueryRefusal(`unterminated comment at position ${i + 1}`);
      i = end + 2;
      continue;
    }
    const pos = i + 1;
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw new QueryRefusal(`unterminated string literal at position ${pos}`);
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += sql[i];
        i++;
      }
      out.push({ t: 'str', v, pos });
      continue;
    }
    if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw new QueryRefusal(`unterminated quoted identifier at position ${pos}`);
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += sql[i];
        i++;
      }
      out.push({ t: 'ident', v, quoted: true, pos });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i))!;
      const num = m[0];
      const after = /^(ns|us|ms|s|m|h|d)(?![A-Za-z0-9_])/.exec(sql.slice(i + num.length));
      if (after && /^\d+$/.test(num)) {
        const unit = after[1]!;
        out.push({ t: 'dur', v: num + unit, ns: BigInt(num) * DURATION_UNITS[unit]!, pos });
        i += num.length + unit.length;
        continue;
      }
      if (/^[A-Za-z_]/.test(sql.slice(i + num.length))) {
        throw new QueryRefusal(`invalid literal '${sql.slice(i).split(/[\s,()]/)[0]}' at position ${pos}`);
      }
      out.push({ t: 'num', v: num, pos });
      i += num.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const mv = MEASURE_VALUE_COLUMN.exec(sql.slice(i));
      if (mv && !/[A-Za-z0-9_]/.test(sql[i + mv[0].length] ?? '')) {
        out.push({ t: 'ident', v: mv[0].toLowerCase(), quoted: false, pos });
        i += mv[0].length;
        continue;
      }
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))!;
      out.push({ t: 'ident', v: m[0], quoted: false, pos });
      i += m[0].length;
      continue;
    }
    const two = sql.slice(i, i + 2);
    if (['<=', '>=', '<>', '!=', '||', '::'].includes(two)) {
      if (two === '::') throw new QueryRefusal(`the '::' cast at position ${pos} is not supported; use CAST`);
      if (two === '||') throw new QueryRefusal(`the '||' operator at position ${pos} is not supported`);
      out.push({ t: 'op', v: two === '!=' ? '<>' : two, pos });
      i += 2;
      continue;
    }
    if ('=<>+-*/%(),.;'.includes(c)) {
      out.push({ t: 'op', v: c, pos });
      i++;
      continue;
    }
    throw new QueryRefusal(`unexpected character '${c}' at position ${pos}`);
  }
  out.push({ t: 'eof', v: '', pos: sql.length + 1 });
  return out;
}

export type Expr =
  | { k: 'col'; name: string; qualifier?: string; pos: number }
  | { k: 'num'; text: string; pos: number }
  | { k: 'str'; value: string; pos: number }
  | { k: 'bool'; value: boolean; pos: number }
  | { k: 'null'; pos: number }
  | { k: 'dur'; ns: bigint; text: string; pos: number }
  | { k: 'call'; name: string; args: Expr[]; star: boolean; distinct: boolean; pos: number }
  | { k: 'binary'; op: string; left: Expr; right: Expr; pos: number }
  | { k: 'not'; expr: Expr; pos: number }
  | { k: 'neg'; expr: Expr; pos: number }
  | { k: 'between'; expr: Expr; low: Expr; high: Expr; not: boolean; pos: number }
  | { k: 'in'; expr: Expr; list: Expr[]; not: boolean; pos: number }
  | { k: 'isnull'; expr: Expr; not: boolean; pos: number }
  | { k: 'like'; expr: Expr; pattern: Expr; not: boolean; pos: number };

export interface SelectItem {
  readonly expr: Expr | 'star';
  readonly alias?: string;
}

export interface OrderItem {
  readonly expr: Expr;
  readonly desc: boolean;
  readonly nulls?: 'first' | 'last';
}

export interface SelectStatement {
  readonly distinct: boolean;
  readonly items: SelectItem[];
  readonly from: { database: string; table: string; alias?: string };
  readonly where?: Expr;
  readonly groupBy: Expr[];
  readonly having?: Expr;
  readonly orderBy: OrderItem[];
  readonly limit?: number;
}

/** Keywords of constructs outside the subset, named in the refusal. */
const UNSUPPORTED_KEYWORDS: Readonly<Record<string, string>> = {
  join: 'JOIN',
  union: 'UNION',
  intersect: 'INTERSECT',
  except: 'EXCEPT',
  with: 'WITH (common table expressions)',
  over: 'window functions (OVER)',
  offset: 'OFFSET',
  fetch: 'FETCH',
  case: 'CASE expressions',
  cast: 'CAST',
  interval: 'INTERVAL literals (use duration literals such as 15m or 1h)',
  unnest: 'UNNEST',
  values: 'VALUES',
  exists: 'EXISTS',
  cross: 'JOIN',
  inner: 'JOIN',
  left: 'JOIN',
  right: 'JOIN',
  full: 'JOIN',
  window: 'WINDOW',
  insert: 'INSERT',
  update: 'UPDATE',
  delete: 'DELETE',
  create: 'CREATE',
  drop: 'DROP',
  show: 'SHOW',
  describe: 'DESCRIBE',
  explain: 'EXPLAIN',
  unload: 'UNLOAD',
  array: 'ARRAY',
  row: 'ROW',
};

const RESERVED = new Set([
  'select',
  'from',
  'where',
  'group',
  'by',
  'having',
  'order',
  'limit',
  'and',
  'or',
  'not',
  'in',
  'between',
  'is',
  'null',
  'like',
  'as',
  'asc',
  'desc',
  'distinct',
  'true',
  'false',
  'nulls',
  'first',
  'last',
  'all',
  ...Object.keys(UNSUPPORTED_KEYWORDS),
]);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.t !== 'eof') this.i++;
    return t;
  }

  private isKw(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.t === 'ident' && !t.quoted && t.v.toLowerCase() === word;
  }

  private acceptKw(word: string): boolean {
    if (this.isKw(word)) {
      this.i++;
      return true;
    }
    return false;
  }

  private isOp(op: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === op;
  }

  private acceptOp(op: string): boolean {
    if (this.isOp(op)) {
      this.i++;
      return true;
    }
    return false;
  }

  fail(t: Token = this.peek(), expected?: string): never {
    if (t.t === 'ident' && !t.quoted) {
      const construct = UNSUPPORTED_KEYWORDS[t.v.toLowerCase()];
      if (construct) {
        throw new QueryRefusal(
          `${construct} at position ${t.pos} is not supported by the local Timestream query subset`,
        );
      }
    }
    if (t.t === 'eof')
      throw new QueryRefusal(`unexpected end of query${expected ? `; expected ${expected}` : ''}`);
    throw new QueryRefusal(
      `unexpected '${t.v}' at position ${t.pos}${expected ? `; expected ${expected}` : ''}`,
    );
  }

  private expectKw(word: string): void {
    if (!this.acceptKw(word)) this.fail(this.peek(), word.toUpperCase());
  }

  private expectOp(op: string): void {
    if (!this.acceptOp(op)) this.fail(this.peek(), `'${op}'`);
  }

  private identifier(what: string): { v: string; pos: number } {
    const t = this.peek();
    if (t.t !== 'ident' || (!t.quoted && RESERVED.has(t.v.toLowerCase()))) this.fail(t, what);
    this.i++;
    return { v: t.v, pos: t.pos };
  }

  statement(): SelectStatement {
    if (!this.isKw('select')) this.fail(this.peek(), 'SELECT');
    const s = this.select();
    this.acceptOp(';');
    if (this.peek().t !== 'eof') this.fail();
    return s;
  }

  private select(): SelectStatement {
    this.expectKw('select');
    const distinct = this.acceptKw('distinct');
    this.acceptKw('all');
    const items: SelectItem[] = [];
    do {
      if (this.acceptOp('*')) {
        items.push({ expr: 'star' });
        continue;
      }
      const expr = this.expr();
      let alias: string | undefined;
      if (this.acceptKw('as')) alias = this.identifier('an alias').v;
      else if (this.peek().t === 'ident' && !RESERVED.has(this.peek().v.toLowerCase())) {
        alias = this.identifier('an alias').v;
      }
      items.push({ expr, ...(alias !== undefined ? { alias } : {}) });
    } while (this.acceptOp(','));
    this.expectKw('from');
    if (this.isOp('(')) throw new QueryRefusal(`subqueries at position ${this.peek().pos} are not supported`);
    const first = this.identifier('a database name');
    this.expectOp('.');
    const second = this.identifier('a table name');
    if (this.isOp('.'))
      throw new QueryRefusal(`a three-part table name at position ${first.pos} is not supported`);
    let alias: string | undefined;
    if (this.acceptKw('as')) alias = this.identifier('a table alias').v;
    else if (this.peek().t === 'ident' && !RESERVED.has(this.peek().v.toLowerCase())) {
      alias = this.identifier('a table alias').v;
    }
    if (this.isOp(','))
      throw new QueryRefusal(`more than one table in FROM (position ${this.peek().pos}) is not supported`);
    const from = { database: first.v, table: second.v, ...(alias !== undefined ? { alias } : {}) };
    const where = this.acceptKw('where') ? this.expr() : undefined;
    const groupBy: Expr[] = [];
    if (this.acceptKw('group')) {
      this.expectKw('by');
      do groupBy.push(this.expr());
      while (this.acceptOp(','));
    }
    const having = this.acceptKw('having') ? this.expr() : undefined;
    const orderBy: OrderItem[] = [];
    if (this.acceptKw('order')) {
      this.expectKw('by');
      do {
        const expr = this.expr();
        const desc = this.acceptKw('desc');
        if (!desc) this.acceptKw('asc');
        let nulls: 'first' | 'last' | undefined;
        if (this.acceptKw('nulls')) {
          if (this.acceptKw('first')) nulls = 'first';
          else if (this.acceptKw('last')) nulls = 'last';
          else this.fail(this.peek(), 'FIRST or LAST');
        }
        orderBy.push({ expr, desc, ...(nulls ? { nulls } : {}) });
      } while (this.acceptOp(','));
    }
    let limit: number | undefined;
    if (this.acceptKw('limit')) {
      const t = this.next();
      if (t.t !== 'num' || !/^\d+$/.test(t.v)) this.fail(t, 'a whole number after LIMIT');
      limit = Number(t.v);
    }
    return {
      distinct,
      items,
      from,
      ...(where ? { where } : {}),
      groupBy,
      ...(having ? { having } : {}),
      orderBy,
      ...(limit !== undefined ? { limit } : {}),
    };
  }

  expr(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    while (this.isKw('or')) {
      const pos = this.next().pos;
      left = { k: 'binary', op: 'OR', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isKw('and')) {
      const pos = this.next().pos;
      left = { k: 'binary', op: 'AND', left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Expr {
    if (this.isKw('not')) {
      const pos = this.next().pos;
      return { k: 'not', expr: this.not(), pos };
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.additive();
    const t = this.peek();
    if (t.t === 'op' && ['=', '<>', '<', '<=', '>', '>='].includes(t.v)) {
      this.next();
      if (this.isKw('any') || this.isKw('all') || this.isKw('some')) {
        throw new QueryRefusal(`quantified comparisons at position ${t.pos} are not supported`);
      }
      return { k: 'binary', op: t.v, left, right: this.additive(), pos: t.pos };
    }
    if (this.isKw('is')) {
      const pos = this.next().pos;
      const not = this.acceptKw('not');
      if (this.isKw('distinct'))
        throw new QueryRefusal(`IS DISTINCT FROM at position ${pos} is not supported`);
      this.expectKw('null');
      return { k: 'isnull', expr: left, not, pos };
    }
    const not = this.isKw('not') && (this.isKw('between', 1) || this.isKw('in', 1) || this.isKw('like', 1));
    if (not) this.next();
    if (this.isKw('between')) {
      const pos = this.next().pos;
      const low = this.additive();
      this.expectKw('and');
      const high = this.additive();
      return { k: 'between', expr: left, low, high, not, pos };
    }
    if (this.isKw('in')) {
      const pos = this.next().pos;
      this.expectOp('(');
      if (this.isKw('select'))
        throw new QueryRefusal(`subqueries at position ${this.peek().pos} are not supported`);
      const list: Expr[] = [];
      do list.push(this.additive());
      while (this.acceptOp(','));
      this.expectOp(')');
      return { k: 'in', expr: left, list, not, pos };
    }
    if (this.isKw('like')) {
      const pos = this.next().pos;
      const pattern = this.additive();
      if (this.isKw('escape')) throw new QueryRefusal(`LIKE ... ESCAPE at position ${pos} is not supported`);
      return { k: 'like', expr: left, pattern, not, pos };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && (t.v === '+' || t.v === '-')) {
        this.next();
        left = { k: 'binary', op: t.v, left, right: this.multiplicative(), pos: t.pos };
      } else return left;
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && (t.v === '*' || t.v === '/' || t.v === '%')) {
        this.next();
        left = { k: 'binary', op: t.v, left, right: this.unary(), pos: t.pos };
      } else return left;
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.t === 'op' && t.v === '-') {
      this.next();
      return { k: 'neg', expr: this.unary(), pos: t.pos };
    }
    if (t.t === 'op' && t.v === '+') {
      this.next();
      return this.unary();
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.t) {
      case 'num':
        this.next();
        return { k: 'num', text: t.v, pos: t.pos };
      case 'str':
        this.next();
        return { k: 'str', value: t.v, pos: t.pos };
      case 'dur':
        this.next();
        return { k: 'dur', ns: t.ns, text: t.v, pos: t.pos };
      case 'op':
        if (t.v === '(') {
          this.next();
          if (this.isKw('select'))
            throw new QueryRefusal(`subqueries at position ${t.pos} are not supported`);
          const e = this.expr();
          this.expectOp(')');
          return e;
        }
        return this.fail(t, 'an expression');
      case 'eof':
        return this.fail(t, 'an expression');
      case 'ident':
        break;
    }
    const word = t.v.toLowerCase();
    if (!t.quoted) {
      if (word === 'true' || word === 'false') {
        this.next();
        return { k: 'bool', value: word === 'true', pos: t.pos };
      }
      if (word === 'null') {
        this.next();
        return { k: 'null', pos: t.pos };
      }
      if (word === 'current_timestamp') {
        this.next();
        return { k: 'call', name: 'now', args: [], star: false, distinct: false, pos: t.pos };
      }
      if (RESERVED.has(word)) this.fail(t, 'an expression');
      const nextTok = this.peek(1);
      if (nextTok.t === 'op' && nextTok.v === '(') return this.call();
    }
    this.next();
    if (this.isOp('.')) {
      this.next();
      const col = this.identifier('a column name');
      return { k: 'col', name: col.v, qualifier: t.v, pos: t.pos };
    }
    return { k: 'col', name: t.v, pos: t.pos };
  }

  private call(): Expr {
    const nameTok = this.next();
    this.expectOp('(');
    const name = nameTok.v.toLowerCase();
    const distinct = this.acceptKw('distinct');
    if (this.acceptOp('*')) {
      this.expectOp(')');
      if (this.isKw('over')) this.fail();
      return { k: 'call', name, args: [], star: true, distinct, pos: nameTok.pos };
    }
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      do args.push(this.expr());
      while (this.acceptOp(','));
    }
    this.expectOp(')');
    if (this.isKw('over')) this.fail();
    if (this.isKw('filter'))
      throw new QueryRefusal(`aggregate FILTER at position ${this.peek().pos} is not supported`);
    return { k: 'call', name, args, star: false, distinct, pos: nameTok.pos };
  }
}

export function parseQuery(sql: string): SelectStatement {
  return new Parser(tokenize(sql)).statement();
}
