/**
 * Recursive-descent parser for the subset of Timestream's query language the local Timestream
 * answers (Timestream Developer Guide, "Query language reference": SELECT, operators, date and
 * time functions, aggregate functions). Anything outside it fails with a QueryRefusal naming
 * the construct, so a caller never receives results computed by different rules.
 */

import { isStackOverflow, MAX_SYNTAX_DEPTH, nestingDepth } from '../../common/nesting';
import type { Expr, OrderItem, SelectItem, SelectStatement } from './ast';
import { QueryRefusal } from './errors';
import { type Token, tokenize } from './lexer';

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
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && !t.quoted && t.text.toLowerCase() === word;
  }

  private acceptKeyword(word: string): boolean {
    if (this.isKeyword(word)) {
      this.i++;
      return true;
    }
    return false;
  }

  private isOp(op: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === op;
  }

  private acceptOp(op: string): boolean {
    if (this.isOp(op)) {
      this.i++;
      return true;
    }
    return false;
  }

  fail(t: Token = this.peek(), expected?: string): never {
    if (t.kind === 'ident' && !t.quoted) {
      const construct = UNSUPPORTED_KEYWORDS[t.text.toLowerCase()];
      if (construct) {
        throw new QueryRefusal(
          `${construct} at position ${t.pos} is not supported by the local Timestream query subset`,
        );
      }
    }
    if (t.kind === 'eof')
      throw new QueryRefusal(`unexpected end of query${expected ? `; expected ${expected}` : ''}`);
    throw new QueryRefusal(
      `unexpected '${t.text}' at position ${t.pos}${expected ? `; expected ${expected}` : ''}`,
    );
  }

  private expectKeyword(word: string): void {
    if (!this.acceptKeyword(word)) this.fail(this.peek(), word.toUpperCase());
  }

  private expectOp(op: string): void {
    if (!this.acceptOp(op)) this.fail(this.peek(), `'${op}'`);
  }

  private identifier(what: string): { text: string; pos: number } {
    const t = this.peek();
    if (t.kind !== 'ident' || (!t.quoted && RESERVED.has(t.text.toLowerCase()))) this.fail(t, what);
    this.i++;
    return { text: t.text, pos: t.pos };
  }

  statement(): SelectStatement {
    if (!this.isKeyword('select')) this.fail(this.peek(), 'SELECT');
    const s = this.select();
    this.acceptOp(';');
    if (this.peek().kind !== 'eof') this.fail();
    return s;
  }

  private select(): SelectStatement {
    this.expectKeyword('select');
    const distinct = this.acceptKeyword('distinct');
    this.acceptKeyword('all');
    const items: SelectItem[] = [];
    do {
      if (this.acceptOp('*')) {
        items.push({ expr: 'star' });
        continue;
      }
      const expr = this.expr();
      let alias: string | undefined;
      if (this.acceptKeyword('as')) alias = this.identifier('an alias').text;
      else if (this.peek().kind === 'ident' && !RESERVED.has(this.peek().text.toLowerCase())) {
        alias = this.identifier('an alias').text;
      }
      items.push({ expr, ...(alias !== undefined ? { alias } : {}) });
    } while (this.acceptOp(','));
    this.expectKeyword('from');
    if (this.isOp('(')) throw new QueryRefusal(`subqueries at position ${this.peek().pos} are not supported`);
    const first = this.identifier('a database name');
    this.expectOp('.');
    const second = this.identifier('a table name');
    if (this.isOp('.'))
      throw new QueryRefusal(`a three-part table name at position ${first.pos} is not supported`);
    let alias: string | undefined;
    if (this.acceptKeyword('as')) alias = this.identifier('a table alias').text;
    else if (this.peek().kind === 'ident' && !RESERVED.has(this.peek().text.toLowerCase())) {
      alias = this.identifier('a table alias').text;
    }
    if (this.isOp(','))
      throw new QueryRefusal(`more than one table in FROM (position ${this.peek().pos}) is not supported`);
    const from = { database: first.text, table: second.text, ...(alias !== undefined ? { alias } : {}) };
    const where = this.acceptKeyword('where') ? this.expr() : undefined;
    const groupBy: Expr[] = [];
    if (this.acceptKeyword('group')) {
      this.expectKeyword('by');
      do groupBy.push(this.expr());
      while (this.acceptOp(','));
    }
    const having = this.acceptKeyword('having') ? this.expr() : undefined;
    const orderBy: OrderItem[] = [];
    if (this.acceptKeyword('order')) {
      this.expectKeyword('by');
      do {
        const expr = this.expr();
        const desc = this.acceptKeyword('desc');
        if (!desc) this.acceptKeyword('asc');
        let nulls: 'first' | 'last' | undefined;
        if (this.acceptKeyword('nulls')) {
          if (this.acceptKeyword('first')) nulls = 'first';
          else if (this.acceptKeyword('last')) nulls = 'last';
          else this.fail(this.peek(), 'FIRST or LAST');
        }
        orderBy.push({ expr, desc, ...(nulls ? { nulls } : {}) });
      } while (this.acceptOp(','));
    }
    let limit: number | undefined;
    if (this.acceptKeyword('limit')) {
      const t = this.next();
      if (t.kind !== 'number' || !/^\d+$/.test(t.text)) this.fail(t, 'a whole number after LIMIT');
      limit = Number(t.text);
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
    while (this.isKeyword('or')) {
      const pos = this.next().pos;
      left = { k: 'binary', op: 'OR', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isKeyword('and')) {
      const pos = this.next().pos;
      left = { k: 'binary', op: 'AND', left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Expr {
    if (this.isKeyword('not')) {
      const pos = this.next().pos;
      return { k: 'not', expr: this.not(), pos };
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.additive();
    const t = this.peek();
    if (t.kind === 'op' && ['=', '<>', '<', '<=', '>', '>='].includes(t.text)) {
      this.next();
      if (this.isKeyword('any') || this.isKeyword('all') || this.isKeyword('some')) {
        throw new QueryRefusal(`quantified comparisons at position ${t.pos} are not supported`);
      }
      return { k: 'binary', op: t.text, left, right: this.additive(), pos: t.pos };
    }
    if (this.isKeyword('is')) {
      const pos = this.next().pos;
      const not = this.acceptKeyword('not');
      if (this.isKeyword('distinct'))
        throw new QueryRefusal(`IS DISTINCT FROM at position ${pos} is not supported`);
      this.expectKeyword('null');
      return { k: 'isnull', expr: left, not, pos };
    }
    const not =
      this.isKeyword('not') &&
      (this.isKeyword('between', 1) || this.isKeyword('in', 1) || this.isKeyword('like', 1));
    if (not) this.next();
    if (this.isKeyword('between')) {
      const pos = this.next().pos;
      const low = this.additive();
      this.expectKeyword('and');
      const high = this.additive();
      return { k: 'between', expr: left, low, high, not, pos };
    }
    if (this.isKeyword('in')) {
      const pos = this.next().pos;
      this.expectOp('(');
      if (this.isKeyword('select'))
        throw new QueryRefusal(`subqueries at position ${this.peek().pos} are not supported`);
      const list: Expr[] = [];
      do list.push(this.additive());
      while (this.acceptOp(','));
      this.expectOp(')');
      return { k: 'in', expr: left, list, not, pos };
    }
    if (this.isKeyword('like')) {
      const pos = this.next().pos;
      const pattern = this.additive();
      if (this.isKeyword('escape'))
        throw new QueryRefusal(`LIKE ... ESCAPE at position ${pos} is not supported`);
      return { k: 'like', expr: left, pattern, not, pos };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && (t.text === '+' || t.text === '-')) {
        this.next();
        left = { k: 'binary', op: t.text, left, right: this.multiplicative(), pos: t.pos };
      } else return left;
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && (t.text === '*' || t.text === '/' || t.text === '%')) {
        this.next();
        left = { k: 'binary', op: t.text, left, right: this.unary(), pos: t.pos };
      } else return left;
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && t.text === '-') {
      this.next();
      return { k: 'neg', expr: this.unary(), pos: t.pos };
    }
    if (t.kind === 'op' && t.text === '+') {
      this.next();
      return this.unary();
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return { k: 'num', text: t.text, pos: t.pos };
      case 'string':
        this.next();
        return { k: 'str', value: t.text, pos: t.pos };
      case 'duration':
        this.next();
        return { k: 'dur', ns: t.ns, text: t.text, pos: t.pos };
      case 'op':
        if (t.text === '(') {
          this.next();
          if (this.isKeyword('select'))
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
    const word = t.text.toLowerCase();
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
      if (nextTok.kind === 'op' && nextTok.text === '(') return this.call();
    }
    this.next();
    if (this.isOp('.')) {
      this.next();
      const col = this.identifier('a column name');
      return { k: 'col', name: col.text, qualifier: t.text, pos: t.pos };
    }
    return { k: 'col', name: t.text, pos: t.pos };
  }

  private call(): Expr {
    const nameTok = this.next();
    this.expectOp('(');
    const name = nameTok.text.toLowerCase();
    const distinct = this.acceptKeyword('distinct');
    if (this.acceptOp('*')) {
      this.expectOp(')');
      if (this.isKeyword('over')) this.fail();
      return { k: 'call', name, args: [], star: true, distinct, pos: nameTok.pos };
    }
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      do args.push(this.expr());
      while (this.acceptOp(','));
    }
    this.expectOp(')');
    if (this.isKeyword('over')) this.fail();
    if (this.isKeyword('filter'))
      throw new QueryRefusal(`aggregate FILTER at position ${this.peek().pos} is not supported`);
    return { k: 'call', name, args, star: false, distinct, pos: nameTok.pos };
  }
}

/**
 * Parses a query. One whose syntax tree is more than MAX_SYNTAX_DEPTH levels deep is refused (a
 * ValidationException, never a stack overflow answered with a 500); Timestream documents no
 * nesting limit of its own.
 */
export function parseQuery(sql: string): SelectStatement {
  const tooDeep = () =>
    new QueryRefusal(
      `the query is nested too deeply: the local Timestream runs syntax trees up to ${MAX_SYNTAX_DEPTH} levels deep (parentheses, calls, operators)`,
    );
  let statement: SelectStatement;
  try {
    statement = new Parser(tokenize(sql)).statement();
  } catch (err) {
    if (isStackOverflow(err)) throw tooDeep();
    throw err;
  }
  // A long operator chain parses in a loop yet makes a deep tree for the translator.
  if (nestingDepth(statement, MAX_SYNTAX_DEPTH) > MAX_SYNTAX_DEPTH) throw tooDeep();
  return statement;
}
