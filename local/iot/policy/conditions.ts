/**
 * The Condition block of an IoT policy statement.
 * IAM User Guide, "IAM JSON policy elements: Condition operators": operators in a block are
 * ANDed, the values of one key are ORed, a key absent from the request fails the condition
 * except for negated operators (which then match), `...IfExists` matches an absent key, and
 * `Null` tests presence. Keys are case-insensitive.
 */
import { BlockList, isIP } from 'node:net';
import type { AuthorizationContext } from '../types';
import { contextValue } from './context-keys';
import { expand, joinPieces, toRegExp } from './template';

export type ConditionOutcome = { readonly met: true } | { readonly met: false; readonly why: string };

type Compare = (actual: string, expected: string, context: AuthorizationContext) => boolean | undefined;

/** Expands variables in a condition value; undefined if one cannot be resolved. */
function expected(value: string, context: AuthorizationContext, asPattern: boolean) {
  const e = expand(value, context);
  if (!e.ok) return undefined;
  return asPattern ? e.pieces : [{ text: joinPieces(e.pieces), pattern: false }];
}

const like =
  (ignoreCase: boolean): Compare =>
  (actual, value, context) => {
    const pieces = expected(value, context, true);
    return pieces && toRegExp(pieces, ignoreCase).test(actual);
  };

const equals =
  (ignoreCase: boolean): Compare =>
  (actual, value, context) => {
    const pieces = expected(value, context, false);
    if (!pieces) return undefined;
    const text = joinPieces(pieces);
    return ignoreCase ? text.toLowerCase() === actual.toLowerCase() : text === actual;
  };

const ipMatch: Compare = (actual, cidr) => {
  const family = isIP(actual);
  if (!family) return false;
  const [net = '', bits] = cidr.split('/');
  const netFamily = isIP(net);
  if (!netFamily) return false;
  const list = new BlockList();
  const type = netFamily === 6 ? 'ipv6' : 'ipv4';
  const prefix = bits === undefined ? (netFamily === 6 ? 128 : 32) : Number(bits);
  if (!Number.isInteger(prefix)) return false;
  list.addSubnet(net, prefix, type);
  return list.check(actual, family === 6 ? 'ipv6' : 'ipv4');
};

const numeric =
  (test: (a: number, b: number) => boolean): Compare =>
  (actual, value) => {
    const a = Number(actual);
    const b = Number(value);
    return Number.isFinite(a) && Number.isFinite(b) && test(a, b);
  };

/** Positive operators; `negated` ones report a match when no value matches. */
const OPERATORS: Record<string, { compare: Compare; negated: boolean }> = {
  StringEquals: { compare: equals(false), negated: false },
  StringNotEquals: { compare: equals(false), negated: true },
  StringEqualsIgnoreCase: { compare: equals(true), negated: false },
  StringNotEqualsIgnoreCase: { compare: equals(true), negated: true },
  StringLike: { compare: like(false), negated: false },
  StringNotLike: { compare: like(false), negated: true },
  ArnEquals: { compare: like(false), negated: false },
  ArnLike: { compare: like(false), negated: false },
  ArnNotEquals: { compare: like(false), negated: true },
  ArnNotLike: { compare: like(false), negated: true },
  Bool: { compare: (a, b) => a.toLowerCase() === b.toLowerCase(), negated: false },
  IpAddress: { compare: ipMatch, negated: false },
  NotIpAddress: { compare: ipMatch, negated: true },
  NumericEquals: { compare: numeric((a, b) => a === b), negated: false },
  NumericNotEquals: { compare: numeric((a, b) => a === b), negated: true },
  NumericLessThan: { compare: numeric((a, b) => a < b), negated: false },
  NumericLessThanEquals: { compare: numeric((a, b) => a <= b), negated: false },
  NumericGreaterThan: { compare: numeric((a, b) => a > b), negated: false },
  NumericGreaterThanEquals: { compare: numeric((a, b) => a >= b), negated: false },
};

/**
 * Why a statement's Condition block is malformed, or undefined when it is well formed: every
 * operator must be one the local policy engine evaluates (optionally with `IfExists`), map
 * condition keys to a string, number, boolean or a non-empty list of them. CreatePolicy refuses a
 * malformed one (MalformedPolicyException) rather than letting it deny every request later.
 */
export function conditionProblem(block: object): string | undefined {
  for (const [rawOperator, keys] of Object.entries(block)) {
    const operator = rawOperator.endsWith('IfExists')
      ? rawOperator.slice(0, -'IfExists'.length)
      : rawOperator;
    if (operator !== 'Null' && !Object.hasOwn(OPERATORS, operator)) {
      return `condition operator ${rawOperator} is not supported; use one of ${['Null', ...Object.keys(OPERATORS)].join(', ')}`;
    }
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
      return `condition ${rawOperator} must map condition keys to values`;
    }
    for (const [key, values] of Object.entries(keys)) {
      const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
      const ok = scalar(values) || (Array.isArray(values) && values.length > 0 && values.every(scalar));
      if (!ok)
        return `condition ${rawOperator} ${key} must be a string, number, boolean or a non-empty list of them`;
    }
  }
  return undefined;
}

const asList = (v: string | readonly string[] | boolean | number): string[] =>
  (Array.isArray(v) ? v : [v]).map((x) => String(x));

export function evaluateConditions(
  block: Record<string, Record<string, string | readonly string[]>> | undefined,
  context: AuthorizationContext,
): ConditionOutcome {
  if (!block) return { met: true };
  for (const [rawOperator, keys] of Object.entries(block)) {
    if (typeof keys !== 'object' || keys === null)
      return { met: false, why: `malformed condition ${rawOperator}` };
    const ifExists = rawOperator.endsWith('IfExists');
    const operator = ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator;
    for (const [key, values] of Object.entries(keys)) {
      const actual = contextValue(key, context);
      const list = asList(values);
      if (operator === 'Null') {
        const wantsAbsent = list.some((v) => v.toLowerCase() === 'true');
        if ((actual === undefined) !== wantsAbsent)
          return { met: false, why: `condition Null on ${key} not met` };
        continue;
      }
      const op = Object.hasOwn(OPERATORS, operator) ? OPERATORS[operator] : undefined;
      if (!op) return { met: false, why: `unsupported condition operator ${rawOperator}` };
      if (actual === undefined) {
        if (ifExists || op.negated) continue;
        return { met: false, why: `condition key ${key} is not present` };
      }
      const results = list.map((v) => op.compare(actual, v, context));
      if (results.some((r) => r === undefined) && !results.some((r) => r === true)) {
        return { met: false, why: `a policy variable in condition ${rawOperator} ${key} cannot be resolved` };
      }
      const anyMatch = results.some((r) => r === true);
      if (anyMatch === op.negated) return { met: false, why: `condition ${rawOperator} ${key} not met` };
    }
  }
  return { met: true };
}
