/**
 * Substitution templates: `${expression}` inside action fields (AWS IoT developer guide,
 * "Substitution templates"). Each expression is any IoT SQL expression; the template is
 * compiled when the rule is created so a bad one fails at deploy.
 */
import type { Expr } from './ast';
import { SqlParseError } from './errors';
import type { Evaluating } from './evaluator';
import { positionAt } from './lexer';
import { Parser } from './parser';
import { toSqlString } from './values';

export type CompiledTemplate = ReadonlyArray<string | Expr>;

export function compileTemplate(
  template: string,
  variables: ReadonlySet<string> = new Set(),
): CompiledTemplate {
  const parts: Array<string | Expr> = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    if (template.startsWith('${', i)) {
      const end = closingBrace(template, i + 2);
      if (end < 0)
        throw new SqlParseError(
          "unterminated substitution template: '$' '{' without a closing '}'",
          positionAt(template, i),
        );
      const source = template.slice(i + 2, end);
      if (source.trim() === '')
        throw new SqlParseError(
          'empty substitution template (nothing between the braces)',
          positionAt(template, i),
        );
      if (literal) parts.push(literal);
      literal = '';
      parts.push(
        new Parser(source, new Set(variables), positionAt(template, i + 2)).parseStandaloneExpression(),
      );
      i = end + 1;
    } else {
      literal += template[i];
      i++;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

/** Index of the `}` closing a template expression, skipping braces inside strings and object literals. */
function closingBrace(s: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** Renders a compiled template: Undefined becomes the empty string, other values their string form. */
export function* renderTemplate(
  tpl: CompiledTemplate,
  evaluate: (e: Expr) => Evaluating,
): Evaluating<string> {
  let out = '';
  for (const part of tpl) out += typeof part === 'string' ? part : (toSqlString(yield* evaluate(part)) ?? '');
  return out;
}
