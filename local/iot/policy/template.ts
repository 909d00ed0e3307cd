/**
 * Policy strings with variables and wildcards.
 * IAM User Guide, "IAM policy elements: Variables and tags" (`${key}`, and the `${*}`, `${?}`,
 * `${$}` escapes); AWS IoT Developer Guide, "AWS IoT Core policy elements": in policies `*`
 * matches any run of characters (including '/'), `?` exactly one; MQTT's `+` and `#` are
 * plain characters.
 */
import type { AuthorizationContext } from '../types';
import { contextValue } from './context-keys';

/** A piece of an expanded template; wildcards apply only to pattern pieces, never to variable values. */
interface Piece {
  readonly text: string;
  readonly pattern: boolean;
}

export type Expansion =
  | { readonly ok: true; readonly pieces: readonly Piece[] }
  | { readonly ok: false; readonly variable: string };

const VARIABLE = /\$\{([^}]*)\}/g;

/** Substitutes policy variables; `ok: false` names the first variable that cannot be resolved. */
export function expand(template: string, context: AuthorizationContext): Expansion {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of template.matchAll(VARIABLE)) {
    const name = match[1] ?? '';
    if (match.index > last) pieces.push({ text: template.slice(last, match.index), pattern: true });
    last = match.index + match[0].length;
    if (name === '*' || name === '?' || name === '$') {
      pieces.push({ text: name, pattern: false });
      continue;
    }
    const value = contextValue(name, context);
    if (value === undefined) return { ok: false, variable: match[0] };
    pieces.push({ text: value, pattern: false });
  }
  if (last < template.length) pieces.push({ text: template.slice(last), pattern: true });
  return { ok: true, pieces };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A pattern piece as a source: escaped, then its `*` and `?` turned into wildcards. */
const patternSource = (text: string) =>
  escapeRegExp(text).replace(/\\([*?])/g, (_, c: string) => (c === '*' ? '[\\s\\S]*' : '[\\s\\S]'));

/**
 * Compiled expressions by source, so a pattern seen again costs a map lookup. Bounded: a
 * broker sees as many sources as it has distinct expanded policy resources, and a flood of
 * distinct ones only empties the cache.
 */
const compiled = new Map<string, RegExp>();
const MAX_CACHED_EXPRESSIONS = 10_000;

/** Whole-string matcher for an expanded pattern: `*` any run (including '/'), `?` one character. */
export function toRegExp(pieces: readonly Piece[], ignoreCase = false): RegExp {
  let source = ignoreCase ? 'i^' : '^';
  for (const p of pieces) source += p.pattern ? patternSource(p.text) : escapeRegExp(p.text);
  source += '$';
  let re = compiled.get(source);
  if (!re) {
    if (compiled.size >= MAX_CACHED_EXPRESSIONS) compiled.clear();
    re = new RegExp(ignoreCase ? source.slice(1) : source, ignoreCase ? 'iu' : 'u');
    compiled.set(source, re);
  }
  return re;
}

export const joinPieces = (pieces: readonly Piece[]) => pieces.map((p) => p.text).join('');
