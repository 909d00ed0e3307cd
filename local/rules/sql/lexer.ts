/**
 * Tokenizer for AWS IoT SQL ("AWS IoT SQL reference"). No comments exist in IoT SQL.
 * String literals take single or double quotes; a quote is escaped by doubling it or with a
 * backslash (AWS leaves escaping undocumented, so both are accepted).
 */
import { scanQuoted } from '../../common';
import { type SourcePosition, SqlParseError } from './errors';

export type TokenKind = 'ident' | 'number' | 'string' | 'variable' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier text as written, operator text, string contents, or number text. */
  readonly text: string;
  /** For strings: which quote opened it. */
  readonly quote?: "'" | '"';
  readonly pos: SourcePosition;
  /** Offset just past the token. */
  readonly end: number;
}

const OPERATORS = [
  '<>',
  '!=',
  '<=',
  '>=',
  '=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  ',',
  '.',
  '{',
  '}',
  '[',
  ']',
  ':',
];

export function positionAt(source: string, offset: number, base?: SourcePosition): SourcePosition {
  let line = base?.line ?? 1;
  let column = base?.column ?? 1;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      column = 1;
    } else column++;
  }
  return { offset: (base?.offset ?? 0) + offset, line, column };
}

export function tokenize(source: string, base?: SourcePosition): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  // Tokens come in source order: each position continues from the last one (linear, not
  // quadratic, in the statement's length).
  let last = { at: 0, pos: positionAt(source, 0, base) };
  const at = (offset: number): SourcePosition => {
    if (offset < last.at) return positionAt(source, offset, base);
    const pos = positionAt(source.slice(last.at, offset), offset - last.at, last.pos);
    last = { at: offset, pos: { ...pos, offset: (base?.offset ?? 0) + offset } };
    return last.pos;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < source.length && /[A-Za-z0-9_]/.test(source[i]!)) i++;
      tokens.push({ kind: 'ident', text: source.slice(start, i), pos: at(start), end: i });
      continue;
    }
    if (c === '@') {
      i++;
      while (i < source.length && /[A-Za-z0-9_]/.test(source[i]!)) i++;
      const name = source.slice(start + 1, i);
      if (name.length === 0 || name.length > 64) {
        throw new SqlParseError(
          'a variable is @ followed by 1 to 64 letters, digits or underscores',
          at(start),
        );
      }
      tokens.push({ kind: 'variable', text: name, pos: at(start), end: i });
      continue;
    }
    const prev = tokens[tokens.length - 1];
    const afterOperand =
      prev?.kind === 'ident' || (prev?.kind === 'op' && (prev.text === ')' || prev.text === ']'));
    if (/[0-9]/.test(c) || (c === '.' && !afterOperand && /[0-9]/.test(source[i + 1] ?? ''))) {
      while (i < source.length && /[0-9]/.test(source[i]!)) i++;
      if (source[i] === '.' && /[0-9]/.test(source[i + 1] ?? '')) {
        i++;
        while (i < source.length && /[0-9]/.test(source[i]!)) i++;
      }
      if (/[eE]/.test(source[i] ?? '') && /[-+]?[0-9]/.test(source.slice(i + 1, i + 3))) {
        i++;
        if (source[i] === '-' || source[i] === '+') i++;
        while (i < source.length && /[0-9]/.test(source[i]!)) i++;
      }
      if (/[A-Za-z_]/.test(source[i] ?? '')) {
        throw new SqlParseError(`unexpected character '${source[i]}' after the number`, at(i));
      }
      tokens.push({ kind: 'number', text: source.slice(start, i), pos: at(start), end: i });
      continue;
    }
    if (c === "'" || c === '"') {
      const quoted = scanQuoted(source, i, true);
      if (!quoted) throw new SqlParseError(`unterminated string literal (missing closing ${c})`, at(start));
      i = quoted.end;
      tokens.push({ kind: 'string', text: quoted.text, quote: c, pos: at(start), end: i });
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op) {
      i += op.length;
      tokens.push({ kind: 'op', text: op, pos: at(start), end: i });
      continue;
    }
    throw new SqlParseError(`unexpected character '${c}'`, at(start));
  }
  tokens.push({ kind: 'eof', text: '', pos: at(source.length), end: source.length });
  return tokens;
}
