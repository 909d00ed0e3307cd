/**
 * Tokenizer for the subset of Timestream's query language the local Timestream answers
 * (Timestream Developer Guide, "Query language reference": identifiers, string literals,
 * duration literals such as `15m`, operators, line and block comments). Tokens have the shape
 * the IoT SQL lexer uses (`kind`, `text`, `pos`); `pos` is the 1-based offset refusals name.
 */
import { scanQuoted } from '../../common';
import { QueryRefusal } from './errors';

/** An identifier keeps its text as written; `quoted` when written in double quotes (never a keyword). */
export type Token =
  | { readonly kind: 'ident'; readonly text: string; readonly quoted: boolean; readonly pos: number }
  | { readonly kind: 'string' | 'number' | 'op' | 'eof'; readonly text: string; readonly pos: number }
  | { readonly kind: 'duration'; readonly text: string; readonly ns: bigint; readonly pos: number };

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
    if (c === "'" || c === '"') {
      const quoted = scanQuoted(sql, i, false);
      if (!quoted) {
        const what = c === "'" ? 'string literal' : 'quoted identifier';
        throw new QueryRefusal(`unterminated ${what} at position ${pos}`);
      }
      i = quoted.end;
      out.push(
        c === "'"
          ? { kind: 'string', text: quoted.text, pos }
          : { kind: 'ident', text: quoted.text, quoted: true, pos },
      );
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i))!;
      const num = m[0];
      const after = /^(ns|us|ms|s|m|h|d)(?![A-Za-z0-9_])/.exec(sql.slice(i + num.length));
      if (after && /^\d+$/.test(num)) {
        const unit = after[1]!;
        out.push({ kind: 'duration', text: num + unit, ns: BigInt(num) * DURATION_UNITS[unit]!, pos });
        i += num.length + unit.length;
        continue;
      }
      if (/^[A-Za-z_]/.test(sql.slice(i + num.length))) {
        throw new QueryRefusal(`invalid literal '${sql.slice(i).split(/[\s,()]/)[0]}' at position ${pos}`);
      }
      out.push({ kind: 'number', text: num, pos });
      i += num.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const mv = MEASURE_VALUE_COLUMN.exec(sql.slice(i));
      if (mv && !/[A-Za-z0-9_]/.test(sql[i + mv[0].length] ?? '')) {
        out.push({ kind: 'ident', text: mv[0].toLowerCase(), quoted: false, pos });
        i += mv[0].length;
        continue;
      }
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))!;
      out.push({ kind: 'ident', text: m[0], quoted: false, pos });
      i += m[0].length;
      continue;
    }
    const two = sql.slice(i, i + 2);
    if (['<=', '>=', '<>', '!=', '||', '::'].includes(two)) {
      if (two === '::') throw new QueryRefusal(`the '::' cast at position ${pos} is not supported; use CAST`);
      if (two === '||') throw new QueryRefusal(`the '||' operator at position ${pos} is not supported`);
      out.push({ kind: 'op', text: two === '!=' ? '<>' : two, pos });
      i += 2;
      continue;
    }
    if ('=<>+-*/%(),.;'.includes(c)) {
      out.push({ kind: 'op', text: c, pos });
      i++;
      continue;
    }
    throw new QueryRefusal(`unexpected character '${c}' at position ${pos}`);
  }
  out.push({ kind: 'eof', text: '', pos: sql.length + 1 });
  return out;
}
