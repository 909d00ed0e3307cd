/**
 * Recursive-descent (Pratt for operators) parser for AWS IoT SQL 2016-03-23 ("AWS IoT SQL
 * reference": SET, SELECT, FROM, WHERE; "Literals"; "Case statements"; "Nested object
 * queries"). Everything the evaluator cannot run faithfully is refused here, so a rule fails
 * at deploy time with a position and a reason rather than misbehaving at runtime.
 *
 * LIMITATIONS versus AWS: the IN operator, searched CASE (`CASE WHEN cond`), and attribute
 * names written in quotes or backticks are refused. A SELECT item without AS that is not an
 * attribute or a function call is named `_<n>` (its 1-based position); AWS's naming for such
 * items is not documented.
 */
import type { BinaryOp, Expr, Projection, Query, SelectItem } from './ast';
import { type SourcePosition, SqlParseError } from './errors';
import { CAST_TYPES, lookupFunction } from './functions';
import { type Token, tokenize } from './lexer';
import { topicFilterProblem } from './topic-filter';

const RESERVED = new Set([
  'select',
  'from',
  'where',
  'as',
  'and',
  'or',
  'not',
  'case',
  'when',
  'then',
  'else',
  'end',
  'true',
  'false',
  'null',
  'set',
  'in',
]);

const BINARY: Record<string, { op: BinaryOp; prec: number }> = {
  or: { op: 'OR', prec: 1 },
  and: { op: 'AND', prec: 2 },
  '=': { op: '=', prec: 4 },
  '<>': { op: '<>', prec: 4 },
  '!=': { op: '<>', prec: 4 },
  '<': { op: '<', prec: 4 },
  '<=': { op: '<=', prec: 4 },
  '>': { op: '>', prec: 4 },
  '>=': { op: '>=', prec: 4 },
  '+': { op: '+', prec: 5 },
  '-': { op: '-', prec: 5 },
  '*': { op: '*', prec: 6 },
  '/': { op: '/', prec: 6 },
  '%': { op: '%', prec: 6 },
};
const NOT_PREC = 3;
/** Unary minus binds tighter than every binary operator. */
const UNARY_OPERAND_PREC = 6;

export class Parser {
  private i = 0;
  private readonly tokens: Token[];

  constructor(
    source: string,
    /** SET variables in scope (templates see the rule's variables). */
    private readonly variables: Set<string> = new Set(),
    base?: SourcePosition,
  ) {
    this.tokens = tokenize(source, base);
  }

  /** A whole statement: `[SET ...] SELECT ... [FROM '<filter>'] [WHERE ...]`. */
  parseStatement(): Query {
    const sets: Array<{ name: string; expr: Expr }> = [];
    if (this.isKeyword('set')) {
      this.next();
      do {
        const v = this.peek();
        if (v.kind !== 'variable')
          this.fail(`expected a variable such as @name after SET, found ${describe(v)}`);
        this.next();
        if (this.variables.has(v.text))
          this.fail(`variable @${v.text} is already set; variables are immutable`, v);
        this.expectOp('=');
        sets.push({ name: v.text, expr: this.parseExpression() });
        this.variables.add(v.text);
      } while (this.acceptOp(','));
    }
    const query = this.parseQuery(true);
    const rest = this.peek();
    if (rest.kind !== 'eof') this.fail(`unexpected ${describe(rest)} after the end of the statement`);
    return { ...query, sets };
  }

  /** One expression and nothing after it (substitution templates). */
  parseStandaloneExpression(): Expr {
    const e = this.parseExpression();
    const rest = this.peek();
    if (rest.kind !== 'eof') this.fail(`unexpected ${describe(rest)} after the expression`);
    return e;
  }

  private parseQuery(topLevel: boolean): Query {
    if (!this.isKeyword('select')) this.fail(`expected SELECT, found ${describe(this.peek())}`);
    this.next();
    const projection = this.parseProjection();
    let from: Query['from'];
    if (this.isKeyword('from')) {
      this.next();
      from = topLevel ? this.parseTopicFilter() : { k: 'expr', expr: this.parseExpression() };
    } else if (!topLevel) {
      this.fail(`expected FROM and the array to query, found ${describe(this.peek())}`);
    }
    let where: Expr | undefined;
    if (this.isKeyword('where')) {
      this.next();
      where = this.parseExpression();
    }
    return { sets: [], projection, ...(from ? { from } : {}), ...(where ? { where } : {}) };
  }

  private parseTopicFilter(): NonNullable<Query['from']> {
    const t = this.peek();
    if (t.kind !== 'string' || t.quote !== "'") {
      this.fail(`FROM takes a topic filter in single quotes, e.g. FROM 'a/+/b'; found ${describe(t)}`);
    }
    this.next();
    const problem = topicFilterProblem(t.text);
    if (problem) this.fail(`invalid topic filter '${t.text}': ${problem}`, t);
    return { k: 'topic', filter: t.text };
  }

  private parseProjection(): Projection {
    const first = this.peek();
    if (first.kind === 'ident' && first.text.toLowerCase() === 'value' && this.startsValueExpression()) {
      this.next();
      return { k: 'value', expr: this.parseExpression() };
    }
    const items: SelectItem[] = [];
    do {
      if (this.peek().kind === 'op' && this.peek().text === '*' && this.endsItem(this.peekAt(1))) {
        this.next();
        items.push({ k: 'star' });
        continue;
      }
      const start = this.peek();
      const expr = this.parseExpression();
      let key: string;
      if (this.isKeyword('as')) {
        this.next();
        const alias = this.peek();
        if (alias.kind !== 'ident' && alias.kind !== 'string') {
          this.fail(`expected a name after AS, found ${describe(alias)}`);
        }
        this.next();
        key = alias.text;
      } else {
        key = defaultKey(expr, items.length + 1);
      }
      if (key === '') this.fail('a SELECT item cannot have an empty name', start);
      items.push({ k: 'item', expr, key });
    } while (this.acceptOp(','));
    return { k: 'items', items };
  }

  private startsValueExpression(): boolean {
    const t = this.peekAt(1);
    if (t.kind === 'number' || t.kind === 'string' || t.kind === 'variable') return true;
    if (t.kind === 'ident') return !['from', 'where', 'as'].includes(t.text.toLowerCase());
    return t.kind === 'op' && ['(', '{', '['].includes(t.text);
  }

  private endsItem(t: Token): boolean {
    return (
      t.kind === 'eof' ||
      (t.kind === 'op' && (t.text === ',' || t.text === ')')) ||
      (t.kind === 'ident' && ['from', 'where'].includes(t.text.toLowerCase()))
    );
  }

  parseExpression(minPrec = 0): Expr {
    let left = this.parsePrefix();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'ident' && t.text.toLowerCase() === 'in') {
        this.fail('the IN operator is not emulated by the local rules engine');
      }
      const key = t.kind === 'op' ? t.text : t.kind === 'ident' ? t.text.toLowerCase() : '';
      const bin = t.kind === 'op' || t.kind === 'ident' ? BINARY[key] : undefined;
      if (!bin || bin.prec <= minPrec) return left;
      this.next();
      const right = this.parseExpression(bin.prec);
      left = { k: 'binary', op: bin.op, left, right };
    }
  }

  private parsePrefix(): Expr {
    const t = this.peek();
    if (t.kind === 'ident' && t.text.toLowerCase() === 'not') {
      this.next();
      return { k: 'not', expr: this.parseExpression(NOT_PREC) };
    }
    if (t.kind === 'op' && t.text === '-') {
      this.next();
      const operand = this.parseExpression(UNARY_OPERAND_PREC);
      if (operand.k === 'literal' && typeof operand.value === 'number')
        return { k: 'literal', value: -operand.value };
      return { k: 'negate', expr: operand };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePostfix(expr: Expr): Expr {
    let e = expr;
    while (this.peek().kind === 'op' && this.peek().text === '.') {
      this.next();
      const name = this.peek();
      if (name.kind !== 'ident') {
        this.fail(
          `expected an attribute name after '.', found ${describe(name)}; names with '-' or digits need get(), e.g. get(a, "0")`,
        );
      }
      this.next();
      e = { k: 'member', object: e, name: name.text };
    }
    return e;
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return { k: 'literal', value: Number(t.text) };
      case 'string':
        this.next();
        return { k: 'literal', value: t.text };
      case 'variable':
        this.next();
        if (!this.variables.has(t.text))
          this.fail(`variable @${t.text} is not set by an earlier SET item`, t);
        return { k: 'variable', name: t.text };
      case 'op':
        return this.parseBracketed(t);
      case 'ident':
        return this.parseWord(t);
      default:
        return this.fail(`expected an expression, found ${describe(t)}`);
    }
  }

  private parseBracketed(t: Token): Expr {
    if (t.text === '(') {
      this.next();
      if (this.isKeyword('select')) {
        const query = this.parseQuery(false);
        this.expectOp(')');
        return { k: 'subquery', query };
      }
      const inner = this.parseExpression();
      this.expectOp(')');
      return inner;
    }
    if (t.text === '{') {
      this.next();
      const entries: Array<{ key: string; value: Expr }> = [];
      if (!this.acceptOp('}')) {
        do {
          const key = this.peek();
          if (key.kind !== 'string' && key.kind !== 'ident') {
            this.fail(`expected a key (a string) in the object literal, found ${describe(key)}`);
          }
          this.next();
          this.expectOp(':');
          entries.push({ key: key.text, value: this.parseExpression() });
        } while (this.acceptOp(','));
        this.expectOp('}');
      }
      return { k: 'object', entries };
    }
    if (t.text === '[') {
      this.next();
      const items: Expr[] = [];
      if (!this.acceptOp(']')) {
        do items.push(this.parseExpression());
        while (this.acceptOp(','));
        this.expectOp(']');
      }
      return { k: 'array', items };
    }
    if (t.text === '*') {
      return this.fail("'*' (the whole payload) can only be a SELECT item or a function argument");
    }
    return this.fail(`expected an expression, found ${describe(t)}`);
  }

  private parseWord(t: Token): Expr {
    const word = t.text.toLowerCase();
    const callFollows = this.peekAt(1).kind === 'op' && this.peekAt(1).text === '(';
    if (word === 'true' || word === 'false') {
      this.next();
      return { k: 'literal', value: word === 'true' };
    }
    if (word === 'null') {
      this.next();
      return { k: 'literal', value: null };
    }
    if (word === 'case') return this.parseCase();
    if (word === 'cast' && callFollows) return this.parseCast();
    if (callFollows) return this.parseCall(t);
    if (RESERVED.has(word)) {
      this.fail(
        `'${t.text}' is a keyword and cannot be used here; an attribute with that name needs get(*, '${t.text}')`,
      );
    }
    this.next();
    return { k: 'attribute', name: t.text };
  }

  private parseCall(t: Token): Expr {
    const name = t.text.toLowerCase();
    const spec = lookupFunction(name);
    if (!spec) {
      this.fail(
        `unknown function ${t.text}(): not a function of the AWS IoT SQL reference (SQL version 2016-03-23)`,
      );
    }
    this.next();
    this.expectOp('(');
    const args: Expr[] = [];
    if (!this.acceptOp(')')) {
      do {
        const a = this.peek();
        if (a.kind === 'op' && a.text === '*' && this.endsItem(this.peekAt(1))) {
          this.next();
          args.push({ k: 'star' });
        } else args.push(this.parseExpression());
      } while (this.acceptOp(','));
      this.expectOp(')');
    }
    if (args.length < spec.min || args.length > spec.max) {
      const expected =
        spec.min === spec.max
          ? `${spec.min}`
          : spec.max === Number.POSITIVE_INFINITY
            ? `at least ${spec.min}`
            : `${spec.min} to ${spec.max}`;
      this.fail(`${t.text}() takes ${expected} argument(s), got ${args.length}`, t);
    }
    spec.prepare?.();
    // decode(*, 'proto', ...) decodes Protobuf with a descriptor read from S3: an external call.
    const external = spec.external === true || (name === 'decode' && args.length > 2);
    return { k: 'call', name, args, pos: t.pos, ...(external ? { external: true } : {}) };
  }

  private parseCast(): Expr {
    this.next();
    this.expectOp('(');
    const expr = this.parseExpression();
    if (!this.isKeyword('as')) this.fail(`expected AS and a type in cast(), found ${describe(this.peek())}`);
    this.next();
    const type = this.peek();
    const to =
      type.kind === 'ident' && Object.hasOwn(CAST_TYPES, type.text.toLowerCase())
        ? CAST_TYPES[type.text.toLowerCase()]
        : undefined;
    if (!to) {
      this.fail(
        `unknown cast type ${describe(type)}; use String, Nvarchar, Text, Ntext, Varchar, Int, Integer, Double, Decimal, Bool or Boolean`,
      );
    }
    this.next();
    this.expectOp(')');
    return { k: 'cast', expr, to };
  }

  private parseCase(): Expr {
    this.next();
    if (this.isKeyword('when')) {
      this.fail('CASE needs a value before WHEN: AWS IoT SQL has only the form CASE v WHEN x THEN y ... END');
    }
    const subject = this.parseExpression();
    const whens: Array<{ when: Expr; result: Expr }> = [];
    while (this.isKeyword('when')) {
      this.next();
      const when = this.parseExpression();
      if (!this.isKeyword('then')) this.fail(`expected THEN, found ${describe(this.peek())}`);
      this.next();
      whens.push({ when, result: this.parseExpression() });
    }
    if (whens.length === 0) this.fail(`CASE needs at least one WHEN, found ${describe(this.peek())}`);
    let otherwise: Expr | undefined;
    if (this.isKeyword('else')) {
      this.next();
      otherwise = this.parseExpression();
    }
    if (!this.isKeyword('end')) this.fail(`expected END to close CASE, found ${describe(this.peek())}`);
    this.next();
    return { k: 'case', subject, whens, ...(otherwise ? { otherwise } : {}) };
  }

  private peek(): Token {
    return this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]!;
  }

  private peekAt(n: number): Token {
    return this.tokens[this.i + n] ?? this.tokens[this.tokens.length - 1]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text.toLowerCase() === word;
  }

  private acceptOp(op: string): boolean {
    const t = this.peek();
    if (t.kind === 'op' && t.text === op) {
      this.next();
      return true;
    }
    return false;
  }

  private expectOp(op: string): void {
    if (!this.acceptOp(op)) this.fail(`expected '${op}', found ${describe(this.peek())}`);
  }

  private fail(reason: string, at: Token = this.peek()): never {
    throw new SqlParseError(reason, at.pos);
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the statement';
  if (t.kind === 'string') return `the string ${t.quote}${t.text}${t.quote}`;
  if (t.kind === 'variable') return `@${t.text}`;
  return `'${t.text}'`;
}

function defaultKey(expr: Expr, index: number): string {
  if (expr.k === 'attribute' || expr.k === 'member') return expr.name;
  if (expr.k === 'call') return expr.name;
  if (expr.k === 'variable') return expr.name;
  return `_${index}`;
}
